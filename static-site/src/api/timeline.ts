// The product's one timeline (README "Incidents": GET /api/timeline): incidents, alerts,
// insights and CI deploy runs, newest first, each with a link.

import type { ApiClient } from "./client";
import type { Severity } from "./alerts";

export type FeedKind = "incidents" | "alerts" | "insights" | "ci";

export interface FeedEntry {
  at: number;
  kind: FeedKind | string;
  id: string;
  title: string;
  severity: Severity | null;
  status: string | null;
  link: string;
}

/** The longest range one timeline request may ask for (the API's MAX_RANGE_MS). */
export const MAX_TIMELINE_RANGE_MS = 31 * 86_400_000;

export const timelineApi = {
  entries: (
    api: ApiClient,
    q: { since: number; until: number; kinds?: FeedKind[]; limit?: number },
    o: { signal?: AbortSignal } = {},
  ) =>
    api.get<{ entries: FeedEntry[] }>(
      "/api/timeline",
      { since: q.since, until: q.until, kinds: q.kinds?.join(","), limit: q.limit ?? 500 },
      o,
    ),
};
