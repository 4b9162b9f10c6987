import { describe, expect, it } from "vitest";
import { ApiClient } from "../api/client";
import type { UserSettings } from "../api/ci";
import { UserSettingsStore } from "./userSettings";

function fakeApi(stored: Partial<UserSettings>, getsWait: Promise<void> = Promise.resolve()) {
  const puts: unknown[] = [];
  let current: Record<string, unknown> = { selectedRepos: [], pinnedRepos: [], theme: "system", autoRefreshS: 30,
    notifications: { onFailure: true, onRecovery: false, defaultBranchOnly: true }, version: null, ...stored };
  const fetch = async (_url: string, init?: RequestInit) => {
    if (init?.method === "PUT") {
      const body = JSON.parse(String(init.body));
      puts.push(body);
      current = { ...body, version: ((current.version as number) ?? 0) + 1 };
    } else {
      const answer = JSON.stringify(current); // what the GET read, answered once the test says
      await getsWait;
      return new Response(answer, { status: 200, headers: { "Content-Type": "application/json" } });
    }
    return new Response(JSON.stringify(current), { status: 200, headers: { "Content-Type": "application/json" } });
  };
  return { api: new ApiClient({ baseUrl: "http://api.test", fetch }), puts };
}

describe("UserSettingsStore", () => {
  it("loads, saves a change over the rest without sending the version, and tells every listener", async () => {
    const { api, puts } = fakeApi({ theme: "dark", pinnedRepos: ["a/b"] });
    const store = new UserSettingsStore(api);
    const heard: string[] = [];
    store.subscribe((s) => heard.push(s.theme));
    expect((await store.load()).theme).toBe("dark");
    const saved = await store.update({ theme: "light" });
    expect(saved.theme).toBe("light");
    expect(saved.pinnedRepos).toEqual(["a/b"]);
    expect(puts).toHaveLength(1);
    expect(puts[0]).not.toHaveProperty("version");
    expect(heard).toEqual(["dark", "light"]);
  });

  it("does not let a load that a save overtook bring the old theme back", async () => {
    let release = () => {};
    const { api } = fakeApi({ theme: "system" }, new Promise<void>((r) => (release = r)));
    const store = new UserSettingsStore(api);
    const loading = store.load(); // reads "system", answered only after the save below
    await store.update({ theme: "dark" });
    release();
    await loading;
    expect(store.settings?.theme).toBe("dark");
  });
});
