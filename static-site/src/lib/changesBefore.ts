// "What changed shortly before": the CI deploy runs in the hour before each insight began,
// from one timeline request for a whole page of insights (not one request per insight).

import { MAX_TIMELINE_RANGE_MS, type FeedEntry } from "../api/timeline";

/** How far back before a start "shortly before" looks, ms (an incident's page uses the same hour). */
export const CHANGE_WINDOW_MS = 3_600_000;

/** The one timeline range covering the hour before each start, or null for no starts. A page
 * spanning more than the API's longest range keeps its newest starts (the older ones get none). */
export function rangeBefore(starts: number[]): { since: number; until: number } | null {
  if (starts.length === 0) return null;
  const until = Math.max(...starts);
  const since = Math.max(Math.min(...starts) - CHANGE_WINDOW_MS, until - MAX_TIMELINE_RANGE_MS);
  return { since, until };
}

/** The entries in [start − CHANGE_WINDOW_MS, start], newest first. */
export function changesBefore(start: number, entries: FeedEntry[]): FeedEntry[] {
  return entries.filter((e) => e.at <= start && e.at >= start - CHANGE_WINDOW_MS).sort((a, b) => b.at - a.at);
}
