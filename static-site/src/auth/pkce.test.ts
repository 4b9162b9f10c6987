import { describe, expect, it } from "vitest";
import { base64url, randomToken, s256Challenge } from "./pkce";

describe("PKCE S256", () => {
  it("matches RFC 7636 Appendix B", async () => {
    // The RFC's challenge, as Python's hashlib and openssl compute it too (a copy that reads
    // "…K1t2URWW2Y7oQlpBTw" is a corrupted one).
    // The RFC's verifier is the base64url of these 32 octets.
    const octets = [
      116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214, 191, 240,
      91, 88, 5, 88, 83, 132, 141, 121,
    ];
    const verifier = base64url(new Uint8Array(octets));
    expect(verifier).toBe("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    expect(await s256Challenge(verifier)).toBe("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  });

  it("makes verifiers of 43 unreserved characters, never the same twice", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const v = randomToken();
      expect(v).toMatch(/^[A-Za-z0-9_-]{43}$/); // RFC 7636 §4.1: 43..128 of [A-Z a-z 0-9 - . _ ~]
      seen.add(v);
    }
    expect(seen.size).toBe(200);
  });

  it("base64url has no padding and no + or /", () => {
    expect(base64url(new Uint8Array([0xfb, 0xff]))).toBe("-_8");
    expect(base64url(new Uint8Array([]))).toBe("");
  });
});
