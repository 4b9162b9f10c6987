// The sign-in session: what the app is doing about who the user is, in one place.
//
//   start()         config → the provider's callback (code → tokens) or, on a plain load, a
//                   silent sign-in (prompt=none: back at once while the provider's session lasts,
//                   so a reload or a second tab stays signed in), falling back to the provider's
//                   sign-in page (unless the user just signed out: then the sign-in screen)
//   signIn()        send the browser to the provider, remembering the route to come back to
//   signOut()       forget the tokens (and revoke the refresh token), then the provider's logout
//                   when configured, else the sign-in screen
//   authorization() the API client's hook: "Bearer <access token>", renewed when due
//   unauthorized()  the API client's 401 hook: sign in again (once, and never in a loop)

import type { ApiError, FetchLike } from "../api/client";
import { AuthConfigError, readAuthSettings, resolveAuthConfig, type AuthConfig } from "./config";
import {
  SignInError,
  beginSignIn,
  exchangeCode,
  isCallback,
  logoutUrl,
  readCallback,
  refreshTokens,
  revokeToken,
  takePending,
  type KeyValueStore,
} from "./flow";
import { TokenStore } from "./tokens";

/** sessionStorage flag: the user signed out in this tab, so a load shows the sign-in screen. */
export const SIGNED_OUT_KEY = "mc.auth.signedOut";
/** A 401 this soon after signing in is not cured by signing in again: say so instead of looping. */
export const LOOP_GUARD_MS = 10_000;

export type SessionState =
  /** Reading the settings or finishing a sign-in (code → tokens). */
  | { status: "starting" }
  /** On the way to the provider (sign-in or logout page). */
  | { status: "redirecting" }
  /** No tokens. `message`: why, when something went wrong; null after a sign-out. */
  | { status: "signed-out"; message: string | null }
  | { status: "signed-in"; since: number };

export interface BrowserPort {
  /** The page's current URL (href, for the default redirect URI, and its search and hash). */
  href(): string;
  /** Leave for another page (the provider). */
  assign(url: string): void;
  /** Rewrite the address bar without a navigation (history.replaceState). */
  replace(url: string): void;
}

export interface SessionOptions {
  fetch: FetchLike;
  /** sessionStorage: the sign-in round trip and the signed-out flag; never tokens. */
  storage: KeyValueStore;
  browser: BrowserPort;
  now?: () => number;
}

export class Session {
  private stateValue: SessionState = { status: "starting" };
  private readonly listeners = new Set<(s: SessionState) => void>();
  private config: AuthConfig | null = null;
  readonly tokens: TokenStore;
  private readonly now: () => number;

  constructor(
    /** config.json's "auth" value, unchecked. */
    private readonly settings: unknown,
    private readonly opts: SessionOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.tokens = new TokenStore({
      now: this.now,
      renew: (refresh) => refreshTokens(this.config!, refresh, opts.fetch, this.now),
      onLost: () => {
        if (this.stateValue.status === "signed-in") void this.signIn();
      },
    });
  }

  get state(): SessionState {
    return this.stateValue;
  }

  subscribe(listener: (s: SessionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(next: SessionState): void {
    this.stateValue = next;
    for (const l of this.listeners) l(next);
  }

  private signedOut(message: string | null): void {
    this.set({ status: "signed-out", message });
  }

  /** Run once at page load. */
  async start(): Promise<void> {
    const url = new URL(this.opts.browser.href());
    const callback = isCallback(url.search);
    try {
      const settings = readAuthSettings(this.settings);
      if (!settings) throw new AuthConfigError("This deployment has no sign-in configured (config.json has no \"auth\").");
      this.config = await resolveAuthConfig(settings, url.href, this.opts.fetch);
    } catch (e) {
      if (callback) this.opts.browser.replace(url.pathname + url.hash);
      this.signedOut((e as Error).message);
      return;
    }
    if (callback) {
      await this.finishSignIn(url);
      return;
    }
    if (this.opts.storage.getItem(SIGNED_OUT_KEY)) {
      this.signedOut(null);
      return;
    }
    await this.signIn(url.hash, { silent: true });
  }

  /** The provider sent the browser back: check the answer and trade the code for tokens. */
  private async finishSignIn(url: URL): Promise<void> {
    const pending = takePending(this.opts.storage);
    const answer = readCallback(url.search, pending, this.now());
    // The code and state leave the address bar (and history) before anything else happens.
    const returnTo = answer.kind === "code" ? answer.pending.returnTo : answer.kind === "error" ? answer.returnTo : "";
    this.opts.browser.replace(url.pathname + returnTo);
    if (answer.kind === "error" && answer.silent) {
      // No session at the provider (login_required), or it would not answer silently: ask it
      // with its page, once. That sign-in is not silent, so its own refusal is shown, not retried.
      await this.signIn(returnTo);
      return;
    }
    if (answer.kind !== "code") {
      this.signedOut(answer.kind === "error" ? answer.message : null);
      return;
    }
    try {
      this.tokens.set(await exchangeCode(this.config!, answer.code, answer.pending, this.opts.fetch, this.now));
    } catch (e) {
      this.signedOut(e instanceof SignInError ? e.message : "Signing in failed.");
      return;
    }
    this.opts.storage.removeItem(SIGNED_OUT_KEY);
    this.set({ status: "signed-in", since: this.now() });
  }

  /** Go to the provider's sign-in, coming back to `returnTo` (default: the current route).
   *  `silent`: without its page (prompt=none), for a load that has no tokens yet. */
  async signIn(returnTo?: string, { silent = false }: { silent?: boolean } = {}): Promise<void> {
    if (!this.config) return;
    this.tokens.clear();
    this.opts.storage.removeItem(SIGNED_OUT_KEY);
    this.set({ status: "redirecting" });
    try {
      const target = await beginSignIn(
        this.config,
        returnTo ?? new URL(this.opts.browser.href()).hash,
        this.opts.storage,
        this.now(),
        silent,
      );
      this.opts.browser.assign(target);
    } catch (e) {
      this.signedOut((e as Error).message);
    }
  }

  /** Forget the tokens; end the provider's session too when it has a logout endpoint. */
  signOut(): void {
    const refresh = this.tokens.clear();
    this.opts.storage.setItem(SIGNED_OUT_KEY, "1");
    const config = this.config;
    if (refresh && config) void revokeToken(config, refresh, this.opts.fetch);
    const logout = config ? logoutUrl(config) : null;
    if (logout) {
      this.set({ status: "redirecting" });
      this.opts.browser.assign(logout);
    } else {
      this.signedOut(null);
    }
  }

  /** The browser came back to this page from the provider without an answer (Back button,
   *  back/forward cache): offer the sign-in button instead of waiting for a redirect. */
  returnedWithoutAnswer(): void {
    if (this.stateValue.status === "redirecting") this.signedOut(null);
  }

  /** For the API client: the Authorization header of the next request. */
  authorization = (): Promise<string | null> => this.tokens.authorization();

  /** For the API client: a 401. Sign in again, unless the sign-in itself is what the API refuses. */
  unauthorized = (error: ApiError): void => {
    const s = this.stateValue;
    if (s.status !== "signed-in") return; // already on the way, or signed out on purpose
    if (this.now() - s.since < LOOP_GUARD_MS) {
      this.tokens.clear();
      this.signedOut(`The API refused the sign-in: ${error.message}`);
      return;
    }
    void this.signIn();
  };
}
