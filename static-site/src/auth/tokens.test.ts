import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SignInError, type TokenSet } from "./flow";
import { RENEW_BEFORE_MS, RETRY_MS, TokenStore, renewalTime } from "./tokens";

const MIN = 60_000;
const T0 = 1_800_000_000_000;

function set(access: string, lifetimeMs = 15 * MIN, refresh: string | null = "r"): TokenSet {
  const now = Date.now();
  return { accessToken: access, refreshToken: refresh, idToken: null, receivedAt: now, expiresAt: now + lifetimeMs };
}

describe("renewal time", () => {
  it("is a minute before expiry, or halfway through a short lifetime", () => {
    expect(renewalTime({ receivedAt: 0, expiresAt: 15 * MIN })).toBe(15 * MIN - RENEW_BEFORE_MS);
    expect(renewalTime({ receivedAt: 0, expiresAt: 60 * MIN })).toBe(59 * MIN);
    expect(renewalTime({ receivedAt: 0, expiresAt: 40_000 })).toBe(20_000);
  });
});

describe("the token store", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function store(renew: (r: string) => Promise<TokenSet>) {
    const lost: string[] = [];
    const s = new TokenStore({ renew, onLost: (why) => lost.push(why) });
    return { s, lost };
  }

  it("keeps tokens in memory and gives the header", async () => {
    const { s } = store(async () => set("never"));
    expect(await s.authorization()).toBeNull();
    s.set(set("a1"));
    expect(await s.authorization()).toBe("Bearer a1");
  });

  it("renews silently a minute before expiry, and again for each new token", async () => {
    const renew = vi.fn(async (r: string) => set(`a-for-${r}`, 15 * MIN, `${r}+`));
    const { s, lost } = store(renew);
    s.set(set("a1", 15 * MIN, "r"));

    await vi.advanceTimersByTimeAsync(14 * MIN - 1);
    expect(renew).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(renew).toHaveBeenCalledTimes(1);
    expect(renew).toHaveBeenLastCalledWith("r");
    expect(await s.authorization()).toBe("Bearer a-for-r");

    await vi.advanceTimersByTimeAsync(14 * MIN);
    expect(renew).toHaveBeenCalledTimes(2);
    expect(renew).toHaveBeenLastCalledWith("r+"); // the rotated refresh token
    expect(lost).toEqual([]);
  });

  it("renews once however many ask at once (a rotated refresh token works once)", async () => {
    let release!: () => void;
    const renew = vi.fn(() => new Promise<TokenSet>((ok) => (release = () => ok(set("a2")))));
    const { s } = store(renew);
    s.set(set("a1"));
    await vi.advanceTimersByTimeAsync(15 * MIN); // expired: every request waits for the renewal
    const headers = Promise.all([s.authorization(), s.authorization(), s.authorization()]);
    release();
    expect(await headers).toEqual(["Bearer a2", "Bearer a2", "Bearer a2"]);
    expect(renew).toHaveBeenCalledTimes(1);
  });

  it("renews before a request when the tab slept past the renewal time", async () => {
    const renew = vi.fn(async () => set("fresh"));
    const { s } = store(renew);
    s.set(set("stale", 10 * MIN));
    // Timers of a sleeping tab do not fire; the clock moves on.
    vi.setSystemTime(T0 + 10 * MIN);
    expect(await s.authorization()).toBe("Bearer fresh");
  });

  it("checks on return to the tab", async () => {
    const renew = vi.fn(async () => set("fresh"));
    const { s } = store(renew);
    s.set(set("a1", 10 * MIN));
    s.checkNow();
    expect(renew).not.toHaveBeenCalled();
    vi.setSystemTime(T0 + 9.5 * MIN);
    s.checkNow();
    await vi.advanceTimersByTimeAsync(0);
    expect(renew).toHaveBeenCalledTimes(1);
  });

  it("retries while the provider is unreachable and the token still works", async () => {
    const renew = vi
      .fn<(r: string) => Promise<TokenSet>>()
      .mockRejectedValueOnce(new SignInError("network", "down"))
      .mockResolvedValueOnce(set("a2"));
    const { s, lost } = store(renew);
    s.set(set("a1"));
    await vi.advanceTimersByTimeAsync(14 * MIN);
    expect(renew).toHaveBeenCalledTimes(1);
    expect(await s.authorization()).toBe("Bearer a1"); // still valid for a minute
    await vi.advanceTimersByTimeAsync(RETRY_MS);
    expect(renew).toHaveBeenCalledTimes(2);
    expect(await s.authorization()).toBe("Bearer a2");
    expect(lost).toEqual([]);
  });

  it("gives up and says so when the provider refuses the refresh token", async () => {
    const renew = vi.fn(async () => {
      throw new SignInError("refused", "invalid_grant");
    });
    const { s, lost } = store(renew);
    s.set(set("a1"));
    await vi.advanceTimersByTimeAsync(14 * MIN);
    expect(lost).toEqual(["invalid_grant"]);
    expect(s.signedIn).toBe(false);
    expect(await s.authorization()).toBeNull();
    await vi.advanceTimersByTimeAsync(60 * MIN);
    expect(renew).toHaveBeenCalledTimes(1); // no more timers
  });

  it("without a refresh token, says the session ends a minute before the token does", async () => {
    const renew = vi.fn(async () => set("never"));
    const { s, lost } = store(renew);
    s.set(set("a1", 15 * MIN, null));
    await vi.advanceTimersByTimeAsync(14 * MIN);
    expect(renew).not.toHaveBeenCalled();
    expect(lost).toHaveLength(1);
    expect(s.signedIn).toBe(false);
  });

  it("waits out lifetimes longer than setTimeout can take in one go", async () => {
    const renew = vi.fn(async () => set("a2", 15 * MIN));
    const { s } = store(renew);
    s.set(set("a1", 60 * 24 * 60 * MIN)); // 60 days
    await vi.advanceTimersByTimeAsync(30 * 24 * 60 * MIN);
    expect(renew).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(30 * 24 * 60 * MIN - 2 * MIN);
    expect(renew).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(MIN);
    expect(renew).toHaveBeenCalledTimes(1);
  });

  it("forgets everything on clear, and an answer that arrives afterwards is dropped", async () => {
    let release!: () => void;
    const renew = vi.fn(() => new Promise<TokenSet>((ok) => (release = () => ok(set("late")))));
    const { s } = store(renew);
    s.set(set("a1", 15 * MIN, "r-1"));
    await vi.advanceTimersByTimeAsync(14 * MIN);
    expect(s.clear()).toBe("r-1"); // handed back for revocation
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(s.current).toBeNull();
    expect(await s.authorization()).toBeNull();
    expect(vi.getTimerCount()).toBe(0);
  });
});
