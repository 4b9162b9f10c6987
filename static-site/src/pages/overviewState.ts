// The Overview's data and how one refresh round updates it. Pure, so its promises are tested:
// a round of unchanged (304) answers keeps the very same data objects (no panel redraws) and
// moves only the time the data was confirmed current; a failed panel keeps its last data.

import { ApiError, type Fetched } from "../api/client";
import type { Kpis, Products, Revenue, Users } from "../api/types";

export type Key = "kpis" | "revenue" | "users" | "products";
export const KEYS: readonly Key[] = ["kpis", "revenue", "users", "products"];

export interface State {
  kpis: Kpis | null;
  revenue: Revenue | null;
  users: Users | null;
  products: Products | null;
  /** When the API last confirmed the KPIs: a 200, or a 304 (the data is current as of then). */
  confirmedAt: number | null;
  /** Per panel: why its last refresh failed (the panel keeps its last data). */
  errors: Partial<Record<Key, ApiError>>;
}

export const INITIAL: State = { kpis: null, revenue: null, users: null, products: null, confirmedAt: null, errors: {} };

/** Results in KEYS order: kpis, revenue, users, products. */
export type Round = PromiseSettledResult<Fetched<unknown>>[];

export function mergeRound(prev: State, results: Round, now: number): State {
  const next: State = { ...prev, errors: { ...prev.errors } };
  let changed = false;
  results.forEach((r, i) => {
    const key = KEYS[i]!;
    if (r.status === "fulfilled") {
      if (prev[key] !== r.value.data) {
        Object.assign(next, { [key]: r.value.data });
        changed = true;
      }
      if (key === "kpis" && prev.confirmedAt !== now) {
        next.confirmedAt = now;
        changed = true;
      }
      if (next.errors[key]) {
        delete next.errors[key];
        changed = true;
      }
    } else if (r.reason instanceof ApiError && prev.errors[key]?.message !== r.reason.message) {
      next.errors[key] = r.reason;
      changed = true;
    }
  });
  return changed ? next : prev;
}
