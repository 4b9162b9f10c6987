// PKCE (RFC 7636) with S256, on WebCrypto. WebCrypto's digest exists only in a secure context
// (https, or http on localhost / 127.0.0.1), which is also where a sign-in belongs.

/** base64url without padding (RFC 4648 §5), as PKCE and JWTs use it. */
export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** `bytes` random bytes as base64url: 32 bytes give a 43-character PKCE verifier (256 bits). */
export function randomToken(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** The S256 code challenge of `verifier`: base64url(SHA-256(ASCII(verifier))). */
export async function s256Challenge(verifier: string): Promise<string> {
  if (!globalThis.crypto?.subtle) {
    throw new Error("Signing in needs a secure page (https, or http on localhost or 127.0.0.1).");
  }
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}
