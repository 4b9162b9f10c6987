// The authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636), one step per function so
// each can be tested alone: start (pending state + authorize URL), the callback, the token
// endpoint (code exchange and refresh).
//
// Only the round trip to the provider touches storage: `state`, the code verifier and the route
// to come back to sit in sessionStorage (this tab only) from the redirect until the callback,
// which removes them before anything else. Tokens never touch storage.

import type { FetchLike } from "../api/client";
import type { AuthConfig } from "./config";
import { randomToken, s256Challenge } from "./pkce";

/** sessionStorage key of the sign-in in progress in this tab. */
export const PENDING_KEY = "mc.auth.pending";
/** A callback later than this after its sign-in started is refused (a stale tab, a replay). */
export const PENDING_MAX_AGE_MS = 10 * 60_000;

/** What this tab remembers across the redirect to the provider. */
export interface PendingSignIn {
  state: string;
  verifier: string;
  /** The hash route to show after signing in ("#/hosts?range=1h"), "" for the Overview. */
  returnTo: string;
  /** The redirect URI sent, which the token request must repeat exactly. */
  redirectUri: string;
  /** When the sign-in started, epoch ms. */
  startedAt: number;
  /** Asked with prompt=none: the provider answers at once, with a code only if it has a session. */
  silent?: boolean;
}

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Tokens as this app keeps them (in memory). `expiresAt` is on this browser's clock. */
export interface TokenSet {
  accessToken: string;
  refreshToken: string | null;
  idToken: string | null;
  /** Epoch ms at which the access token stops working. */
  expiresAt: number;
  /** Epoch ms at which this set arrived (renewal is timed from the lifetime it was given). */
  receivedAt: number;
}

/** A sign-in step failed. `kind` decides what happens next. */
export class SignInError extends Error {
  override name = "SignInError";
  constructor(
    /** refused: the provider said no (try a new sign-in); network: retry later; callback: a bad answer. */
    readonly kind: "refused" | "network" | "callback",
    message: string,
    readonly code: string = kind,
  ) {
    super(message);
  }
}

/**
 * A fresh verifier and state, remembered in `storage`, and the URL to send the browser to.
 * `silent`: ask with prompt=none (OIDC Core 3.1.2.1): a provider holding a sign-in session
 * (Cognito's hosted UI, the dev issuer) sends a code back at once; one without answers
 * login_required, and no page is shown either way.
 */
export async function beginSignIn(
  config: AuthConfig,
  returnTo: string,
  storage: KeyValueStore,
  now: number,
  silent = false,
): Promise<string> {
  const pending: PendingSignIn = {
    state: randomToken(32),
    verifier: randomToken(32),
    returnTo: safeReturnTo(returnTo),
    redirectUri: config.redirectUri,
    startedAt: now,
    ...(silent ? { silent: true } : {}),
  };
  const challenge = await s256Challenge(pending.verifier);
  storage.setItem(PENDING_KEY, JSON.stringify(pending));
  return authorizeUrl(config, pending.state, challenge, silent);
}

export function authorizeUrl(config: AuthConfig, state: string, challenge: string, silent = false): string {
  const url = new URL(config.authorizeUrl);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", config.clientId);
  url.searchParams.set("redirect_uri", config.redirectUri);
  url.searchParams.set("scope", config.scopes);
  url.searchParams.set("state", state);
  url.searchParams.set("code_challenge", challenge);
  url.searchParams.set("code_challenge_method", "S256");
  if (silent) url.searchParams.set("prompt", "none");
  return url.href;
}

/** Only a hash route of this app comes back from a sign-in, never a URL elsewhere. */
export function safeReturnTo(hash: string): string {
  return hash.startsWith("#/") ? hash : "";
}

/** The sign-in this tab started, removed from storage as it is read (each is used once). */
export function takePending(storage: KeyValueStore): PendingSignIn | null {
  const raw = storage.getItem(PENDING_KEY);
  storage.removeItem(PENDING_KEY);
  if (!raw) return null;
  try {
    const p = JSON.parse(raw) as Partial<PendingSignIn>;
    if (
      typeof p.state === "string" &&
      typeof p.verifier === "string" &&
      typeof p.redirectUri === "string" &&
      typeof p.startedAt === "number"
    ) {
      return {
        state: p.state,
        verifier: p.verifier,
        redirectUri: p.redirectUri,
        startedAt: p.startedAt,
        returnTo: safeReturnTo(p.returnTo ?? ""),
        ...(p.silent === true ? { silent: true } : {}),
      };
    }
  } catch {
    // not ours, or damaged: as if absent
  }
  return null;
}

export type Callback =
  /** Not a sign-in callback: a normal page load. */
  | { kind: "none" }
  /** A code for the sign-in this tab started. */
  | { kind: "code"; code: string; pending: PendingSignIn }
  /** A callback that must not be used; `message` says why, for the user. `silent`: the answer to a
   *  prompt=none request of this tab (login_required: the provider has no session). */
  | { kind: "error"; code: string; message: string; returnTo: string; silent?: boolean };

/** Whether the page's query string is an authorization response (code or error, with state). */
export function isCallback(search: string): boolean {
  const q = new URLSearchParams(search);
  return q.has("state") && (q.has("code") || q.has("error"));
}

/**
 * The provider's answer in the page's query string, checked against the sign-in this tab started.
 * A state that does not match (CSRF, an answer meant for another tab, a replayed link) is refused.
 */
export function readCallback(search: string, pending: PendingSignIn | null, now: number): Callback {
  if (!isCallback(search)) return { kind: "none" };
  const q = new URLSearchParams(search);
  const returnTo = pending?.returnTo ?? "";
  if (!pending || q.get("state") !== pending.state) {
    return {
      kind: "error",
      code: "state_mismatch",
      returnTo: "",
      message: "This sign-in answer does not belong to a sign-in started in this tab, so it was not used. Sign in again.",
    };
  }
  const silent = pending.silent === true ? { silent: true } : {};
  if (now - pending.startedAt > PENDING_MAX_AGE_MS) {
    return { kind: "error", code: "expired", returnTo, ...silent, message: "The sign-in took too long and has expired. Sign in again." };
  }
  const error = q.get("error");
  if (error) {
    const description = q.get("error_description");
    return {
      kind: "error",
      code: error,
      returnTo,
      ...silent,
      message:
        error === "access_denied"
          ? "Sign-in was cancelled or refused."
          : `The sign-in provider refused the sign-in (${error}${description ? `: ${description}` : ""}).`,
    };
  }
  const code = q.get("code");
  if (!code) return { kind: "error", code: "no_code", returnTo, message: "The sign-in answer carried no code." };
  return { kind: "code", code, pending };
}

/** The authorization code for tokens (the verifier proves this tab asked for it). */
export function exchangeCode(config: AuthConfig, code: string, pending: PendingSignIn, fetchImpl: FetchLike, now: () => number) {
  return tokenRequest(
    config,
    {
      grant_type: "authorization_code",
      code,
      redirect_uri: pending.redirectUri,
      client_id: config.clientId,
      code_verifier: pending.verifier,
    },
    fetchImpl,
    now,
    null,
  );
}

/** New tokens for a refresh token. A provider that does not rotate it keeps the one we have. */
export function refreshTokens(config: AuthConfig, refreshToken: string, fetchImpl: FetchLike, now: () => number) {
  return tokenRequest(
    config,
    { grant_type: "refresh_token", refresh_token: refreshToken, client_id: config.clientId },
    fetchImpl,
    now,
    refreshToken,
  );
}

const TOKEN_TIMEOUT_MS = 15_000;

async function tokenRequest(
  config: AuthConfig,
  form: Record<string, string>,
  fetchImpl: FetchLike,
  now: () => number,
  currentRefresh: string | null,
): Promise<TokenSet> {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), TOKEN_TIMEOUT_MS);
  let res: Response;
  try {
    res = await fetchImpl(config.tokenUrl, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body: new URLSearchParams(form).toString(),
      cache: "no-store",
      credentials: "omit",
      signal: ctrl.signal,
    });
  } catch {
    throw new SignInError("network", "Cannot reach the sign-in provider.");
  } finally {
    clearTimeout(timer);
  }
  let body: Record<string, unknown> = {};
  try {
    body = (await res.json()) as Record<string, unknown>;
  } catch {
    // checked below
  }
  if (!res.ok) {
    // RFC 6749 §5.2: 400/401 with {"error": ...} is a refusal; anything else is the provider failing.
    const error = typeof body.error === "string" ? body.error : null;
    if (error && (res.status === 400 || res.status === 401)) {
      const description = typeof body.error_description === "string" ? `: ${body.error_description}` : "";
      throw new SignInError("refused", `The sign-in provider refused the request (${error}${description}).`, error);
    }
    throw new SignInError("network", `The sign-in provider answered HTTP ${res.status}.`);
  }
  return tokenSet(body, now(), currentRefresh);
}

/** A token endpoint answer as a TokenSet (RFC 6749 §5.1). */
export function tokenSet(body: Record<string, unknown>, receivedAt: number, currentRefresh: string | null): TokenSet {
  const accessToken = body.access_token;
  if (typeof accessToken !== "string" || !accessToken) {
    throw new SignInError("refused", "The sign-in provider sent no access token.", "bad_token_response");
  }
  if (typeof body.token_type === "string" && body.token_type.toLowerCase() !== "bearer") {
    throw new SignInError("refused", `Unsupported token type ${body.token_type}.`, "bad_token_response");
  }
  const expiresIn = typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : null;
  // expires_in is relative, so it is immune to a wrong clock on this machine; the JWT's exp is the fallback.
  const lifetimeMs = expiresIn !== null ? expiresIn * 1000 : jwtLifetimeMs(accessToken) ?? 5 * 60_000;
  return {
    accessToken,
    refreshToken: typeof body.refresh_token === "string" && body.refresh_token ? body.refresh_token : currentRefresh,
    idToken: typeof body.id_token === "string" ? body.id_token : null,
    expiresAt: receivedAt + lifetimeMs,
    receivedAt,
  };
}

/** exp - iat of a JWT (seconds → ms), without trusting the payload for anything else. */
function jwtLifetimeMs(jwt: string): number | null {
  try {
    const part = jwt.split(".")[1];
    if (!part) return null;
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    const claims = JSON.parse(json) as { exp?: unknown; iat?: unknown };
    if (typeof claims.exp === "number" && typeof claims.iat === "number" && claims.exp > claims.iat) {
      return (claims.exp - claims.iat) * 1000;
    }
  } catch {
    // not a JWT: opaque access tokens are allowed
  }
  return null;
}

/** RFC 7009: revoke the refresh token on sign-out (best effort; its absence is not an error). */
export async function revokeToken(config: AuthConfig, token: string, fetchImpl: FetchLike): Promise<void> {
  if (!config.revokeUrl) return;
  try {
    await fetchImpl(config.revokeUrl, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token, token_type_hint: "refresh_token", client_id: config.clientId }).toString(),
      cache: "no-store",
      credentials: "omit",
      keepalive: true,
    });
  } catch {
    // the token is gone from memory anyway
  }
}

/** Where to send the browser to end the provider's session too, or null for a local sign-out. */
export function logoutUrl(config: AuthConfig): string | null {
  if (!config.logoutUrl) return null;
  const url = new URL(config.logoutUrl);
  url.searchParams.set("client_id", config.clientId);
  // Cognito's name, then OIDC RP-initiated logout's: each provider reads its own and ignores the other.
  url.searchParams.set("logout_uri", config.redirectUri);
  url.searchParams.set("post_logout_redirect_uri", config.redirectUri);
  return url.href;
}
