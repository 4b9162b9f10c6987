// The revenue chart's numbers: whole days against the same weekday a week before, and today —
// still running — against last week's same day up to the same time of day. Pure.

import type { RevenueDay } from "../api/types";

export interface RevenueWeek {
  /** Index of today when it is still running (drawn apart from the whole days), else null. */
  today: number | null;
  /** Per day: revenue (today: so far), minor units. */
  current: number[];
  /** Per day: the same weekday a week before; for today only as far as today has run. */
  previous: number[];
}

export function revenueWeek(days: readonly RevenueDay[]): RevenueWeek {
  const last = days.length - 1;
  const today = last >= 0 && days[last]!.partial ? last : null;
  return {
    today,
    current: days.map((d) => d.revenue),
    previous: days.map((d, i) => (i === today ? d.previousWeekSoFar ?? d.previousWeek : d.previousWeek)),
  };
}
