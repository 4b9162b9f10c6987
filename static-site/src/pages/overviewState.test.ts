import { describe, expect, it } from "vitest";
import { ApiError, type Fetched } from "../api/client";
import { INITIAL, mergeRound, type Round } from "./overviewState";

const ok = <T>(data: T, notModified = false): PromiseFulfilledResult<Fetched<unknown>> => ({
  status: "fulfilled",
  value: { data, etag: '"e"', notModified },
});
const fail = (message: string, kind: "network" | "http" = "network"): PromiseRejectedResult => ({
  status: "rejected",
  reason: new ApiError({ kind, message, url: "/api/x", status: kind === "http" ? 400 : null }),
});

const kpis = { period: "24h" } as never;
const revenue = { days: [] } as never;
const users = { dau: 1 } as never;
const products = { products: [] } as never;

describe("a refresh round", () => {
  it("fills the state from the first answers", () => {
    const s = mergeRound(INITIAL, [ok(kpis), ok(revenue), ok(users), ok(products)], 1000);
    expect(s).toMatchObject({ kpis, revenue, users, products, confirmedAt: 1000, errors: {} });
  });

  it("moves the as-of time on a round of 304s (they confirm the data is current), keeping the data", () => {
    const s = mergeRound(INITIAL, [ok(kpis), ok(revenue), ok(users), ok(products)], 1000);
    const again = mergeRound(s, [ok(kpis, true), ok(revenue, true), ok(users, true), ok(products, true)], 6000);
    expect(again.confirmedAt).toBe(6000);
    // The same data objects: no panel has anything to redraw.
    expect([again.kpis, again.revenue, again.users, again.products]).toEqual([kpis, revenue, users, products]);
    expect(again.kpis).toBe(s.kpis);
    expect(again.errors).toEqual({});
  });

  it("does not move the as-of time when the KPIs could not be confirmed", () => {
    const s = mergeRound(INITIAL, [ok(kpis), ok(revenue), ok(users), ok(products)], 1000);
    const down = mergeRound(s, [fail("down"), ok(revenue, true), ok(users, true), ok(products, true)], 6000);
    expect(down.confirmedAt).toBe(1000);
  });

  it("replaces only what changed", () => {
    const s = mergeRound(INITIAL, [ok(kpis), ok(revenue), ok(users), ok(products)], 1000);
    const users2 = { dau: 2 } as never;
    const next = mergeRound(s, [ok(kpis), ok(revenue), ok(users2), ok(products)], 6000);
    expect(next).not.toBe(s);
    expect(next.users).toBe(users2);
    expect(next.kpis).toBe(kpis);
    expect(next.confirmedAt).toBe(6000);
  });

  it("keeps the last data when the API fails, and records why once", () => {
    const s = mergeRound(INITIAL, [ok(kpis), ok(revenue), ok(users), ok(products)], 1000);
    const down = mergeRound(s, [fail("down"), fail("down"), fail("down"), fail("down")], 6000);
    expect(down).toMatchObject({ kpis, revenue, users, products });
    expect(down.errors.kpis?.message).toBe("down");
    // The same failure again changes nothing.
    expect(mergeRound(down, [fail("down"), fail("down"), fail("down"), fail("down")], 11000)).toBe(down);
    // Recovery clears the errors.
    const up = mergeRound(down, [ok(kpis, true), ok(revenue, true), ok(users, true), ok(products, true)], 16000);
    expect(up.errors).toEqual({});
    expect(up.kpis).toBe(kpis);
  });

  it("ignores aborted requests (they are not API errors)", () => {
    const aborted: Round = [{ status: "rejected", reason: new DOMException("aborted", "AbortError") }];
    expect(mergeRound(INITIAL, aborted, 1)).toBe(INITIAL);
  });
});
