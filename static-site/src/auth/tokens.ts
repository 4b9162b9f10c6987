// Tokens in memory only (never localStorage/sessionStorage: a script injected into the page
// could read those long after the tab closed), renewed with the refresh token before they expire.

import { SignInError, type TokenSet } from "./flow";

/** Renew this long before the access token expires (or halfway through a shorter lifetime). */
export const RENEW_BEFORE_MS = 60_000;
/** After a renewal that failed for want of network, try again this much later. */
export const RETRY_MS = 15_000;
/** The longest delay setTimeout takes as it is. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** A token this close to expiry is renewed before a request uses it. */
const USABLE_MARGIN_MS = 5_000;

/** When to renew a token set: `RENEW_BEFORE_MS` before expiry, or halfway for short lifetimes. */
export function renewalTime(t: Pick<TokenSet, "expiresAt" | "receivedAt">): number {
  const lifetime = t.expiresAt - t.receivedAt;
  return t.expiresAt - Math.min(RENEW_BEFORE_MS, lifetime / 2);
}

export interface TokenStoreOptions {
  /** Trade a refresh token for new tokens (the token endpoint). */
  renew: (refreshToken: string) => Promise<TokenSet>;
  /**
   * The tokens are gone for good: renewal was refused, or there is no refresh token and the
   * access token is about to expire. The app sends the user to sign in.
   */
  onLost: (reason: string) => void;
  now?: () => number;
}

export class TokenStore {
  private tokens: TokenSet | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private renewing: Promise<boolean> | null = null;
  private readonly now: () => number;

  constructor(private readonly opts: TokenStoreOptions) {
    this.now = opts.now ?? Date.now;
  }

  get current(): TokenSet | null {
    return this.tokens;
  }

  get signedIn(): boolean {
    return this.tokens !== null;
  }

  /** Keep `tokens` and schedule their renewal. */
  set(tokens: TokenSet): void {
    this.tokens = tokens;
    this.schedule(renewalTime(tokens));
  }

  /** Forget the tokens (sign-out); the refresh token is returned for revocation. */
  clear(): string | null {
    const refresh = this.tokens?.refreshToken ?? null;
    this.tokens = null;
    this.renewing = null;
    this.unschedule();
    return refresh;
  }

  /**
   * The Authorization header for the next request: renews first when the token is (nearly)
   * expired, e.g. after the tab slept and its timers did not run.
   */
  async authorization(): Promise<string | null> {
    const t = this.tokens;
    if (!t) return null;
    if (this.now() >= t.expiresAt - USABLE_MARGIN_MS) {
      await this.renew();
    }
    return this.tokens ? `Bearer ${this.tokens.accessToken}` : null;
  }

  /** Renew now if the time has come (call when the tab becomes visible again). */
  checkNow(): void {
    if (this.tokens && this.now() >= renewalTime(this.tokens)) void this.renew();
  }

  /** Renew once, however many callers ask at the same time (a rotating refresh token is single-use). */
  renew(): Promise<boolean> {
    if (!this.renewing) {
      const done = this.renewOnce().finally(() => {
        if (this.renewing === done) this.renewing = null;
      });
      this.renewing = done;
    }
    return this.renewing;
  }

  private async renewOnce(): Promise<boolean> {
    const t = this.tokens;
    if (!t) return false;
    if (!t.refreshToken) {
      this.lose("your session has ended");
      return false;
    }
    try {
      const next = await this.opts.renew(t.refreshToken);
      if (this.tokens !== t) return false; // signed out (or in again) meanwhile: drop the answer
      this.set(next);
      return true;
    } catch (e) {
      if (this.tokens !== t) return false;
      if (e instanceof SignInError && e.kind === "network" && this.now() < t.expiresAt) {
        // The provider is unreachable for now; the access token still works: try again soon.
        this.schedule(Math.min(this.now() + RETRY_MS, t.expiresAt));
        return false;
      }
      if (e instanceof SignInError && e.kind === "network") {
        // Expired and still unreachable: keep the refresh token and retry; requests meanwhile get 401s.
        this.schedule(this.now() + RETRY_MS);
        return false;
      }
      this.lose(e instanceof Error ? e.message : "renewal failed");
      return false;
    }
  }

  private lose(reason: string): void {
    this.clear();
    this.opts.onLost(reason);
  }

  private schedule(at: number): void {
    this.unschedule();
    // setTimeout fires at once for delays over 2^31-1 ms (~24.8 days): wait in steps instead.
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.now() < at) this.schedule(at);
      else void this.renew();
    }, Math.min(MAX_TIMER_MS, Math.max(0, at - this.now())));
  }

  private unschedule(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
