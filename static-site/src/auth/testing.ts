// Test helpers (imported only by *.test.ts; never part of the bundle).

import type { FetchLike } from "../api/client";
import type { AuthConfig } from "./config";
import type { KeyValueStore } from "./flow";

export const CONFIG: AuthConfig = {
  issuer: "http://127.0.0.1:8000/auth",
  clientId: "mission-control-spa",
  authorizeUrl: "http://127.0.0.1:8000/auth/authorize",
  tokenUrl: "http://127.0.0.1:8000/auth/token",
  logoutUrl: null,
  revokeUrl: null,
  scopes: "openid profile email",
  redirectUri: "http://127.0.0.1:8000/",
};

export class MemoryStorage implements KeyValueStore {
  readonly items = new Map<string, string>();
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
}

export const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

export interface Call {
  url: string;
  init: RequestInit;
  form: URLSearchParams;
}

/** A scripted fetch: each call takes the next answer (a Response, an Error to throw, or a function). */
export function scripted(...answers: Array<Response | Error | ((c: Call) => Response | Promise<Response>)>) {
  const calls: Call[] = [];
  const fetch: FetchLike = async (url, init = {}) => {
    const call = { url, init, form: new URLSearchParams(typeof init.body === "string" ? init.body : "") };
    calls.push(call);
    const a = answers.shift();
    if (a === undefined) throw new Error(`unexpected fetch ${url}`);
    if (a instanceof Error) throw a;
    return typeof a === "function" ? a(call) : a;
  };
  return { fetch, calls, answers };
}

export function tokens(access: string, refresh: string | null = "r1", expiresIn = 900) {
  return { access_token: access, refresh_token: refresh ?? undefined, id_token: "id", token_type: "Bearer", expires_in: expiresIn };
}
