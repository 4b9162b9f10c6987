// The sign-in settings: config.json's "auth" object (written by the deployment), completed from
// the issuer's discovery document when the deployment names only the issuer.

import type { FetchLike } from "../api/client";

/** config.json's "auth" object as the deployment writes it (see static-site/README.md). */
export interface AuthSettings {
  /** The token issuer (`iss`); its discovery document fills in any endpoint not given. */
  issuer?: string | null;
  /** The OAuth client id of the SPA (a public client: no secret). */
  clientId: string;
  authorizeUrl?: string | null;
  tokenUrl?: string | null;
  /** The provider's logout endpoint (Cognito: https://<domain>/logout); absent: local sign-out only. */
  logoutUrl?: string | null;
  /** RFC 7009 revocation endpoint: the refresh token is revoked there on sign-out when given. */
  revokeUrl?: string | null;
  /** Space-separated; default "openid profile email". */
  scopes?: string | null;
  /** Where the provider sends the browser back; default: this page's origin + path. */
  redirectUri?: string | null;
}

/** Everything the sign-in needs, checked and complete. */
export interface AuthConfig {
  issuer: string | null;
  clientId: string;
  authorizeUrl: string;
  tokenUrl: string;
  logoutUrl: string | null;
  revokeUrl: string | null;
  scopes: string;
  redirectUri: string;
}

export const DEFAULT_SCOPES = "openid profile email";

/** A problem with the deployment's sign-in settings: shown to the user, never retried. */
export class AuthConfigError extends Error {
  override name = "AuthConfigError";
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * `value` as an absolute URL that may carry codes and tokens: https, or http on a loopback host
 * (the local runner). Anything else is refused, so a typo cannot send tokens in clear text.
 */
export function secureUrl(value: unknown, what: string): string {
  if (typeof value !== "string" || !value) throw new AuthConfigError(`config.json: auth.${what} is missing`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AuthConfigError(`config.json: auth.${what} is not an absolute URL`);
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK.has(url.hostname))) {
    throw new AuthConfigError(`config.json: auth.${what} must use https (http only on localhost)`);
  }
  return url.href;
}

/** The redirect URI of a page at `href`: origin + path, without index.html, query or hash. */
export function defaultRedirectUri(href: string): string {
  const url = new URL(href);
  return url.origin + url.pathname.replace(/index\.html$/, "");
}

/** config.json's "auth" value, shape-checked; null when the deployment configured no sign-in. */
export function readAuthSettings(raw: unknown): AuthSettings | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== "object" || Array.isArray(raw)) throw new AuthConfigError("config.json: auth is not an object");
  const o = raw as Record<string, unknown>;
  if (typeof o.clientId !== "string" || !o.clientId) throw new AuthConfigError("config.json: auth.clientId is missing");
  const text = (k: string): string | null => {
    const v = o[k];
    if (v === undefined || v === null || v === "") return null;
    if (typeof v !== "string") throw new AuthConfigError(`config.json: auth.${k} is not a string`);
    return v;
  };
  return {
    issuer: text("issuer"),
    clientId: o.clientId,
    authorizeUrl: text("authorizeUrl"),
    tokenUrl: text("tokenUrl"),
    logoutUrl: text("logoutUrl"),
    revokeUrl: text("revokeUrl"),
    scopes: text("scopes"),
    redirectUri: text("redirectUri"),
  };
}

interface Discovery {
  issuer?: unknown;
  authorization_endpoint?: unknown;
  token_endpoint?: unknown;
  end_session_endpoint?: unknown;
  revocation_endpoint?: unknown;
}

/**
 * The complete config: endpoints from the settings, and from the issuer's discovery document
 * (`<issuer>/.well-known/openid-configuration`) for those the settings leave out.
 */
export async function resolveAuthConfig(settings: AuthSettings, pageHref: string, fetchImpl: FetchLike): Promise<AuthConfig> {
  let { authorizeUrl, tokenUrl, logoutUrl, revokeUrl } = settings;
  const issuer = settings.issuer ? secureUrl(settings.issuer, "issuer").replace(/\/+$/, "") : null;
  if (!authorizeUrl || !tokenUrl) {
    if (!issuer) throw new AuthConfigError("config.json: auth needs authorizeUrl and tokenUrl, or an issuer");
    const doc = await discover(issuer, fetchImpl);
    authorizeUrl ||= str(doc.authorization_endpoint);
    tokenUrl ||= str(doc.token_endpoint);
    logoutUrl ||= str(doc.end_session_endpoint);
    revokeUrl ||= str(doc.revocation_endpoint);
  }
  return {
    issuer,
    clientId: settings.clientId,
    authorizeUrl: secureUrl(authorizeUrl, "authorizeUrl"),
    tokenUrl: secureUrl(tokenUrl, "tokenUrl"),
    logoutUrl: logoutUrl ? secureUrl(logoutUrl, "logoutUrl") : null,
    revokeUrl: revokeUrl ? secureUrl(revokeUrl, "revokeUrl") : null,
    scopes: settings.scopes || DEFAULT_SCOPES,
    redirectUri: settings.redirectUri ? secureUrl(settings.redirectUri, "redirectUri") : defaultRedirectUri(pageHref),
  };
}

function str(v: unknown): string | null {
  return typeof v === "string" && v ? v : null;
}

async function discover(issuer: string, fetchImpl: FetchLike): Promise<Discovery> {
  const url = `${issuer}/.well-known/openid-configuration`;
  let doc: Discovery;
  try {
    const res = await fetchImpl(url, { headers: { Accept: "application/json" } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    doc = (await res.json()) as Discovery;
  } catch (e) {
    throw new Error(`Cannot read the sign-in provider's settings (${url}): ${(e as Error).message}`);
  }
  // OIDC Discovery §4.3: the document must name the very issuer it was fetched for.
  if (doc.issuer !== issuer) throw new AuthConfigError(`the discovery document at ${url} is for another issuer`);
  return doc;
}
