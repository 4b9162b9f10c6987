import { describe, expect, it } from "vitest";
import {
  PENDING_KEY,
  PENDING_MAX_AGE_MS,
  authorizeUrl,
  beginSignIn,
  exchangeCode,
  isCallback,
  logoutUrl,
  readCallback,
  refreshTokens,
  takePending,
  tokenSet,
  type PendingSignIn,
} from "./flow";
import { s256Challenge } from "./pkce";
import { CONFIG, MemoryStorage, json, scripted, tokens } from "./testing";

const T0 = 1_800_000_000_000;

function pending(over: Partial<PendingSignIn> = {}): PendingSignIn {
  return { state: "s-123", verifier: "v".repeat(43), returnTo: "#/hosts?range=1h", redirectUri: CONFIG.redirectUri, startedAt: T0, ...over };
}

describe("starting a sign-in", () => {
  it("remembers state, verifier and route in storage and asks for a code with an S256 challenge", async () => {
    const storage = new MemoryStorage();
    const url = new URL(await beginSignIn(CONFIG, "#/hosts?range=1h", storage, T0));
    const saved = JSON.parse(storage.getItem(PENDING_KEY)!) as PendingSignIn;

    expect(url.origin + url.pathname).toBe(CONFIG.authorizeUrl);
    const q = Object.fromEntries(url.searchParams);
    expect(q).toEqual({
      response_type: "code",
      client_id: "mission-control-spa",
      redirect_uri: "http://127.0.0.1:8000/",
      scope: "openid profile email",
      state: saved.state,
      code_challenge: await s256Challenge(saved.verifier),
      code_challenge_method: "S256",
    });
    expect(saved.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(saved.verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(saved.returnTo).toBe("#/hosts?range=1h");
    expect(url.href).not.toContain(saved.verifier); // the verifier never leaves the tab
  });

  it("comes back only to a route of this app", async () => {
    const storage = new MemoryStorage();
    await beginSignIn(CONFIG, "https://evil.example/", storage, T0);
    expect(takePending(storage)!.returnTo).toBe("");
  });

  it("asks silently with prompt=none, and remembers that it did", async () => {
    const storage = new MemoryStorage();
    const url = new URL(await beginSignIn(CONFIG, "#/", storage, T0, true));
    expect(url.searchParams.get("prompt")).toBe("none");
    const back = takePending(storage)!;
    expect(back.silent).toBe(true);
    expect(readCallback(`?error=login_required&state=${back.state}`, back, T0)).toMatchObject({
      kind: "error",
      code: "login_required",
      silent: true,
      returnTo: "#/",
    });
  });

  it("keeps the authorize URL's own query parameters", () => {
    const url = authorizeUrl({ ...CONFIG, authorizeUrl: "https://id.example.com/authorize?tenant=x" }, "s", "c");
    expect(new URL(url).searchParams.get("tenant")).toBe("x");
  });
});

describe("the callback", () => {
  it("recognises an authorization response only", () => {
    expect(isCallback("?code=c&state=s")).toBe(true);
    expect(isCallback("?error=access_denied&state=s")).toBe(true);
    expect(isCallback("")).toBe(false);
    expect(isCallback("?code=c")).toBe(false);
    expect(readCallback("", pending(), T0)).toEqual({ kind: "none" });
  });

  it("hands over the code when the state matches", () => {
    const p = pending();
    expect(readCallback("?code=abc&state=s-123", p, T0 + 1000)).toEqual({ kind: "code", code: "abc", pending: p });
  });

  it("refuses a state that does not match, or any callback this tab did not start", () => {
    for (const [search, p] of [
      ["?code=abc&state=forged", pending()],
      ["?code=abc&state=s-123", null],
      ["?code=abc&state=", pending()],
    ] as const) {
      const answer = readCallback(search, p, T0);
      expect(answer.kind).toBe("error");
      expect(answer).toMatchObject({ code: "state_mismatch", returnTo: "" });
    }
  });

  it("refuses a callback that arrives too late", () => {
    expect(readCallback("?code=abc&state=s-123", pending(), T0 + PENDING_MAX_AGE_MS + 1)).toMatchObject({
      kind: "error",
      code: "expired",
    });
  });

  it("passes the provider's refusal on in words", () => {
    expect(readCallback("?error=access_denied&state=s-123", pending(), T0)).toMatchObject({
      kind: "error",
      code: "access_denied",
      returnTo: "#/hosts?range=1h",
      message: "Sign-in was cancelled or refused.",
    });
    const other = readCallback("?error=invalid_request&error_description=PKCE+required&state=s-123", pending(), T0);
    expect(other).toMatchObject({ kind: "error", code: "invalid_request" });
    expect(other.kind === "error" && other.message).toContain("PKCE required");
  });

  it("uses the pending sign-in once: it is gone from storage as soon as it is read", () => {
    const storage = new MemoryStorage();
    storage.setItem(PENDING_KEY, JSON.stringify(pending()));
    expect(takePending(storage)).toEqual(pending());
    expect(storage.getItem(PENDING_KEY)).toBeNull();
    expect(takePending(storage)).toBeNull();
    storage.setItem(PENDING_KEY, "{not json");
    expect(takePending(storage)).toBeNull();
  });
});

describe("the token endpoint", () => {
  it("trades the code with the verifier and the same redirect URI, as a form", async () => {
    const { fetch, calls } = scripted(json(tokens("a1", "r1", 900)));
    const t = await exchangeCode(CONFIG, "the-code", pending(), fetch, () => T0);
    expect(calls[0]!.url).toBe(CONFIG.tokenUrl);
    expect(calls[0]!.init.method).toBe("POST");
    expect(new Headers(calls[0]!.init.headers).get("Content-Type")).toBe("application/x-www-form-urlencoded");
    expect(calls[0]!.init.credentials).toBe("omit");
    expect(Object.fromEntries(calls[0]!.form)).toEqual({
      grant_type: "authorization_code",
      code: "the-code",
      redirect_uri: CONFIG.redirectUri,
      client_id: CONFIG.clientId,
      code_verifier: "v".repeat(43),
    });
    expect(t).toEqual({ accessToken: "a1", refreshToken: "r1", idToken: "id", expiresAt: T0 + 900_000, receivedAt: T0 });
  });

  it("keeps the refresh token when the provider does not rotate it (Cognito)", async () => {
    const { fetch, calls } = scripted(json(tokens("a2", null, 3600)));
    const t = await refreshTokens(CONFIG, "r-old", fetch, () => T0);
    expect(Object.fromEntries(calls[0]!.form)).toEqual({ grant_type: "refresh_token", refresh_token: "r-old", client_id: CONFIG.clientId });
    expect(t.refreshToken).toBe("r-old");
    expect(t.expiresAt).toBe(T0 + 3_600_000);
  });

  it("tells a refusal (sign in again) from an outage (try later)", async () => {
    const refused = scripted(json({ error: "invalid_grant", error_description: "used" }, 400));
    await expect(refreshTokens(CONFIG, "r", refused.fetch, () => T0)).rejects.toMatchObject({ kind: "refused", code: "invalid_grant" });
    const down = scripted(new TypeError("Failed to fetch"));
    await expect(refreshTokens(CONFIG, "r", down.fetch, () => T0)).rejects.toMatchObject({ kind: "network" });
    const failing = scripted(new Response("<html>bad gateway</html>", { status: 502 }));
    await expect(refreshTokens(CONFIG, "r", failing.fetch, () => T0)).rejects.toMatchObject({ kind: "network" });
  });

  it("refuses answers without a bearer access token", () => {
    expect(() => tokenSet({}, T0, null)).toThrow(/no access token/);
    expect(() => tokenSet({ access_token: "a", token_type: "mac" }, T0, null)).toThrow(/token type/);
  });

  it("falls back to the JWT's own lifetime when expires_in is missing", () => {
    const payload = btoa(JSON.stringify({ iat: 1000, exp: 1600 })).replace(/=+$/, "");
    expect(tokenSet({ access_token: `h.${payload}.s` }, T0, null).expiresAt).toBe(T0 + 600_000);
  });
});

describe("logout", () => {
  it("is local only without a logout endpoint", () => {
    expect(logoutUrl(CONFIG)).toBeNull();
  });

  it("names the client and where to come back, as Cognito and OIDC providers read them", () => {
    const url = new URL(logoutUrl({ ...CONFIG, logoutUrl: "https://mc.auth.eu-west-1.amazoncognito.com/logout" })!);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: CONFIG.clientId,
      logout_uri: CONFIG.redirectUri,
      post_logout_redirect_uri: CONFIG.redirectUri,
    });
  });
});
