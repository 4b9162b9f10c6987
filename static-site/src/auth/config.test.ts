import { describe, expect, it } from "vitest";
import type { FetchLike } from "../api/client";
import { AuthConfigError, defaultRedirectUri, readAuthSettings, resolveAuthConfig, secureUrl } from "./config";

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

const noFetch: FetchLike = async (url) => {
  throw new Error(`unexpected fetch ${url}`);
};

describe("sign-in settings", () => {
  it("takes explicit endpoints as they are and defaults the rest", async () => {
    const settings = readAuthSettings({
      clientId: "spa",
      authorizeUrl: "https://mc.auth.eu-west-1.amazoncognito.com/oauth2/authorize",
      tokenUrl: "https://mc.auth.eu-west-1.amazoncognito.com/oauth2/token",
      logoutUrl: "https://mc.auth.eu-west-1.amazoncognito.com/logout",
    })!;
    const config = await resolveAuthConfig(settings, "https://mc.example.com/index.html#/hosts", noFetch);
    expect(config).toEqual({
      issuer: null,
      clientId: "spa",
      authorizeUrl: "https://mc.auth.eu-west-1.amazoncognito.com/oauth2/authorize",
      tokenUrl: "https://mc.auth.eu-west-1.amazoncognito.com/oauth2/token",
      logoutUrl: "https://mc.auth.eu-west-1.amazoncognito.com/logout",
      revokeUrl: null,
      scopes: "openid profile email",
      redirectUri: "https://mc.example.com/",
    });
  });

  it("reads missing endpoints from the issuer's discovery document", async () => {
    const calls: string[] = [];
    const fetch: FetchLike = async (url) => {
      calls.push(url);
      return json({
        issuer: "http://127.0.0.1:8000/auth",
        authorization_endpoint: "http://127.0.0.1:8000/auth/authorize",
        token_endpoint: "http://127.0.0.1:8000/auth/token",
      });
    };
    const config = await resolveAuthConfig(
      { issuer: "http://127.0.0.1:8000/auth/", clientId: "spa" },
      "http://127.0.0.1:8000/",
      fetch,
    );
    expect(calls).toEqual(["http://127.0.0.1:8000/auth/.well-known/openid-configuration"]);
    expect(config).toMatchObject({
      issuer: "http://127.0.0.1:8000/auth",
      authorizeUrl: "http://127.0.0.1:8000/auth/authorize",
      tokenUrl: "http://127.0.0.1:8000/auth/token",
      logoutUrl: null,
      redirectUri: "http://127.0.0.1:8000/",
    });
  });

  it("refuses a discovery document that names another issuer", async () => {
    const fetch: FetchLike = async () => json({ issuer: "https://evil.example", authorization_endpoint: "https://evil.example/a" });
    await expect(resolveAuthConfig({ issuer: "https://id.example.com", clientId: "spa" }, "https://mc.example.com/", fetch)).rejects.toThrow(
      AuthConfigError,
    );
  });

  it("sends codes and tokens over https only (http on loopback for the local runner)", () => {
    expect(secureUrl("https://id.example.com/token", "tokenUrl")).toBe("https://id.example.com/token");
    expect(secureUrl("http://127.0.0.1:8000/auth/token", "tokenUrl")).toBe("http://127.0.0.1:8000/auth/token");
    expect(secureUrl("http://localhost:5173/", "redirectUri")).toBe("http://localhost:5173/");
    expect(() => secureUrl("http://id.example.com/token", "tokenUrl")).toThrow(/https/);
    expect(() => secureUrl("javascript:alert(1)", "tokenUrl")).toThrow(/https/);
    expect(() => secureUrl("/auth/token", "tokenUrl")).toThrow(/absolute/);
  });

  it("says what is wrong with a broken auth object, and null when there is none", () => {
    expect(readAuthSettings(undefined)).toBeNull();
    expect(readAuthSettings(null)).toBeNull();
    expect(() => readAuthSettings({ issuer: "https://id.example.com" })).toThrow(/clientId/);
    expect(() => readAuthSettings({ clientId: "spa", tokenUrl: 3 })).toThrow(/tokenUrl/);
    expect(() => readAuthSettings("yes")).toThrow(AuthConfigError);
  });

  it("redirects back to the page's origin and path", () => {
    expect(defaultRedirectUri("http://127.0.0.1:8000/#/hosts?range=1h")).toBe("http://127.0.0.1:8000/");
    expect(defaultRedirectUri("https://mc.example.com/dash/index.html?x=1")).toBe("https://mc.example.com/dash/");
  });
});
