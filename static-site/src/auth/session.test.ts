import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/client";
import { PENDING_KEY } from "./flow";
import { LOOP_GUARD_MS, SIGNED_OUT_KEY, Session } from "./session";
import { CONFIG, MemoryStorage, json, scripted, tokens } from "./testing";

const T0 = 1_800_000_000_000;
const SETTINGS = { issuer: CONFIG.issuer, clientId: CONFIG.clientId, authorizeUrl: CONFIG.authorizeUrl, tokenUrl: CONFIG.tokenUrl };

function browser(href: string) {
  const b = {
    href,
    assigned: [] as string[],
    replaced: [] as string[],
    port: {
      href: () => b.href,
      assign: (url: string) => b.assigned.push(url),
      replace: (url: string) => {
        b.replaced.push(url);
        b.href = new URL(url, b.href).href;
      },
    },
  };
  return b;
}

const unauthorized = new ApiError({ kind: "unauthorized", status: 401, url: "/api/kpis", message: "invalid token: expired" });

/** Start a sign-in from `href`, then come back from the provider with a code for it. */
async function signedIn(storage = new MemoryStorage(), settings: object = SETTINGS) {
  const first = browser("http://127.0.0.1:8000/#/hosts?range=1h");
  await new Session(settings, { fetch: scripted().fetch, storage, browser: first.port }).start();
  const state = new URL(first.assigned[0]!).searchParams.get("state")!;
  const back = browser(`http://127.0.0.1:8000/?code=the-code&state=${state}`);
  const net = scripted(json(tokens("a1", "r1")));
  const session = new Session(settings, { fetch: net.fetch, storage, browser: back.port });
  await session.start();
  return { session, back, net, storage };
}

describe("the sign-in session", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });
  afterEach(() => vi.useRealTimers());

  it("sends a signed-out browser straight to the provider, remembering the route", async () => {
    const storage = new MemoryStorage();
    const b = browser("http://127.0.0.1:8000/#/hosts?range=1h");
    const session = new Session(SETTINGS, { fetch: scripted().fetch, storage, browser: b.port });
    const states: string[] = [];
    session.subscribe((s) => states.push(s.status));
    await session.start();
    expect(states).toEqual(["redirecting"]);
    expect(b.assigned).toHaveLength(1);
    expect(b.assigned[0]).toMatch(/^http:\/\/127\.0\.0\.1:8000\/auth\/authorize\?response_type=code&/);
    expect(JSON.parse(storage.getItem(PENDING_KEY)!).returnTo).toBe("#/hosts?range=1h");
    expect(await session.authorization()).toBeNull();
  });

  it("finishes the sign-in: code for tokens, code and state out of the address bar, route back", async () => {
    const { session, back, net, storage } = await signedIn();
    expect(back.replaced).toEqual(["/#/hosts?range=1h"]);
    expect(net.calls[0]!.form.get("code")).toBe("the-code");
    expect(session.state).toEqual({ status: "signed-in", since: T0 });
    expect(await session.authorization()).toBe("Bearer a1");
    expect(storage.items.size).toBe(0); // nothing left in sessionStorage: no verifier, no tokens
  });

  it("refuses a callback whose state does not match, without a redirect loop", async () => {
    const storage = new MemoryStorage();
    const first = browser("http://127.0.0.1:8000/");
    await new Session(SETTINGS, { fetch: scripted().fetch, storage, browser: first.port }).start();
    const forged = browser("http://127.0.0.1:8000/?code=stolen&state=forged");
    const net = scripted();
    const session = new Session(SETTINGS, { fetch: net.fetch, storage, browser: forged.port });
    await session.start();
    expect(net.calls).toHaveLength(0); // the code was never used
    expect(forged.replaced).toEqual(["/"]);
    expect(forged.assigned).toEqual([]);
    expect(session.state).toMatchObject({ status: "signed-out", message: expect.stringMatching(/does not belong/) });
    expect(storage.getItem(PENDING_KEY)).toBeNull();
  });

  it("tries a silent sign-in first on a plain load, so a reload or a second tab stays signed in", async () => {
    const storage = new MemoryStorage();
    const b = browser("http://127.0.0.1:8000/#/hosts");
    await new Session(SETTINGS, { fetch: scripted().fetch, storage, browser: b.port }).start();
    expect(new URL(b.assigned[0]!).searchParams.get("prompt")).toBe("none");
    expect(JSON.parse(storage.getItem(PENDING_KEY)!)).toMatchObject({ silent: true, returnTo: "#/hosts" });
  });

  it("falls back to the provider's sign-in page when it has no session (login_required)", async () => {
    const storage = new MemoryStorage();
    const first = browser("http://127.0.0.1:8000/#/hosts?range=6h");
    await new Session(SETTINGS, { fetch: scripted().fetch, storage, browser: first.port }).start();
    const state = new URL(first.assigned[0]!).searchParams.get("state")!;
    const back = browser(`http://127.0.0.1:8000/?error=login_required&state=${state}`);
    const session = new Session(SETTINGS, { fetch: scripted().fetch, storage, browser: back.port });
    await session.start();
    expect(back.replaced).toEqual(["/#/hosts?range=6h"]); // the error leaves the address bar
    expect(back.assigned).toHaveLength(1);
    const fallback = new URL(back.assigned[0]!);
    expect(fallback.searchParams.has("prompt")).toBe(false); // the page this time
    expect(session.state.status).toBe("redirecting");
    const pending = JSON.parse(storage.getItem(PENDING_KEY)!);
    expect(pending).toMatchObject({ returnTo: "#/hosts?range=6h", state: fallback.searchParams.get("state") });
    expect(pending.silent).toBeUndefined();

    // Refused there too: shown, never tried again (no loop).
    const refused = browser(`http://127.0.0.1:8000/?error=access_denied&state=${pending.state}`);
    const last = new Session(SETTINGS, { fetch: scripted().fetch, storage, browser: refused.port });
    await last.start();
    expect(last.state).toEqual({ status: "signed-out", message: "Sign-in was cancelled or refused." });
    expect(refused.assigned).toEqual([]);
  });

  it("asks with the provider's page when the user presses Sign in", async () => {
    const storage = new MemoryStorage();
    const b = browser("http://127.0.0.1:8000/");
    const session = new Session(SETTINGS, { fetch: scripted().fetch, storage, browser: b.port });
    await session.start();
    await session.signIn();
    expect(new URL(b.assigned[1]!).searchParams.has("prompt")).toBe(false);
  });

  it("shows the provider's refusal instead of trying again", async () => {
    const storage = new MemoryStorage();
    const first = browser("http://127.0.0.1:8000/");
    const started = new Session(SETTINGS, { fetch: scripted().fetch, storage, browser: first.port });
    await started.start();
    await started.signIn(); // the Sign in button: not silent
    const state = new URL(first.assigned[1]!).searchParams.get("state")!;
    const back = browser(`http://127.0.0.1:8000/?error=access_denied&state=${state}`);
    const session = new Session(SETTINGS, { fetch: scripted().fetch, storage, browser: back.port });
    await session.start();
    expect(session.state).toEqual({ status: "signed-out", message: "Sign-in was cancelled or refused." });
    expect(back.assigned).toEqual([]);
  });

  it("signs out to the sign-in screen, and stays there on reload until asked", async () => {
    const { session, storage } = await signedIn();
    session.signOut();
    expect(session.state).toEqual({ status: "signed-out", message: null });
    expect(await session.authorization()).toBeNull();

    const reload = browser("http://127.0.0.1:8000/#/");
    const again = new Session(SETTINGS, { fetch: scripted().fetch, storage, browser: reload.port });
    await again.start();
    expect(again.state).toEqual({ status: "signed-out", message: null });
    expect(reload.assigned).toEqual([]);

    await again.signIn();
    expect(reload.assigned).toHaveLength(1);
    expect(storage.getItem(SIGNED_OUT_KEY)).toBeNull();
  });

  it("signs out through the provider's logout and revokes the refresh token when it can", async () => {
    const settings = { ...SETTINGS, logoutUrl: "https://mc.auth.eu-west-1.amazoncognito.com/logout", revokeUrl: "https://mc.auth.eu-west-1.amazoncognito.com/oauth2/revoke" };
    const { session, back, net } = await signedIn(new MemoryStorage(), settings);
    net.answers.push(new Response("", { status: 200 }));
    session.signOut();
    expect(session.state.status).toBe("redirecting");
    expect(back.assigned.at(-1)).toMatch(/^https:\/\/mc\.auth\.eu-west-1\.amazoncognito\.com\/logout\?client_id=mission-control-spa&logout_uri=/);
    await vi.advanceTimersByTimeAsync(0);
    expect(net.calls.at(-1)!.url).toBe(settings.revokeUrl);
    expect(net.calls.at(-1)!.form.get("token")).toBe("r1");
  });

  it("sends the user to sign in again on a 401, once, back to the same route", async () => {
    const { session, back, storage } = await signedIn();
    vi.setSystemTime(T0 + LOOP_GUARD_MS + 1);
    back.href = "http://127.0.0.1:8000/#/hosts?host=web-1";
    session.unauthorized(unauthorized);
    session.unauthorized(unauthorized);
    await vi.waitFor(() => expect(back.assigned).toHaveLength(1)); // after the S256 digest
    const state = new URL(back.assigned[0]!).searchParams.get("state");
    expect(JSON.parse(storage.getItem(PENDING_KEY)!)).toMatchObject({ state, returnTo: "#/hosts?host=web-1" });
    expect(session.state.status).toBe("redirecting");
    expect(await session.authorization()).toBeNull();
  });

  it("does not loop when the API refuses a sign-in that just happened", async () => {
    const { session, back } = await signedIn();
    session.unauthorized(unauthorized);
    expect(back.assigned).toEqual([]);
    expect(session.state).toMatchObject({ status: "signed-out", message: expect.stringContaining("invalid token: expired") });
  });

  it("ignores 401s once signed out on purpose", async () => {
    const { session, back } = await signedIn();
    session.signOut();
    vi.setSystemTime(T0 + LOOP_GUARD_MS + 1);
    session.unauthorized(unauthorized);
    expect(back.assigned).toEqual([]);
    expect(session.state).toEqual({ status: "signed-out", message: null });
  });

  it("renews silently, and sends the user to sign in when the provider refuses", async () => {
    const { session, net, back } = await signedIn();
    net.answers.push(json(tokens("a2", "r2")));
    await vi.advanceTimersByTimeAsync(14 * 60_000);
    expect(net.calls.at(-1)!.form.get("refresh_token")).toBe("r1");
    expect(await session.authorization()).toBe("Bearer a2");

    net.answers.push(json({ error: "invalid_grant" }, 400));
    await vi.advanceTimersByTimeAsync(14 * 60_000);
    await vi.waitFor(() => expect(back.assigned).toHaveLength(1));
    expect(back.assigned[0]).toContain("/auth/authorize?");
  });

  it("explains a deployment without sign-in settings instead of showing anything", async () => {
    const b = browser("http://127.0.0.1:8000/");
    const session = new Session(null, { fetch: scripted().fetch, storage: new MemoryStorage(), browser: b.port });
    await session.start();
    expect(session.state).toMatchObject({ status: "signed-out", message: expect.stringContaining("no sign-in configured") });
    await session.signIn();
    expect(b.assigned).toEqual([]);
  });

  it("offers the button again when the browser comes back from the provider without an answer", async () => {
    const b = browser("http://127.0.0.1:8000/");
    const session = new Session(SETTINGS, { fetch: scripted().fetch, storage: new MemoryStorage(), browser: b.port });
    await session.start();
    session.returnedWithoutAnswer();
    expect(session.state).toEqual({ status: "signed-out", message: null });
  });
});
