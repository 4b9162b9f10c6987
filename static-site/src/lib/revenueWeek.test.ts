import { describe, expect, it } from "vitest";
import type { RevenueDay } from "../api/types";
import { revenueWeek } from "./revenueWeek";

const day = (date: string, revenue: number, previousWeek: number, extra: Partial<RevenueDay> = {}): RevenueDay => ({
  date,
  start: 0,
  revenue,
  previousWeek,
  ...extra,
});

describe("the revenue week", () => {
  it("compares today so far with last week's same day by the same time, not its whole day", () => {
    const w = revenueWeek([
      day("2026-11-21", 90_000, 80_000),
      day("2026-11-22", 95_000, 85_000),
      day("2026-11-23", 700, 88_000, { partial: true, previousWeekSoFar: 850 }),
    ]);
    expect(w.today).toBe(2);
    expect(w.current).toEqual([90_000, 95_000, 700]);
    expect(w.previous).toEqual([80_000, 85_000, 850]);
  });

  it("draws every day alike when none is partial (an older API)", () => {
    const w = revenueWeek([day("2026-11-22", 1, 2), day("2026-11-23", 3, 4)]);
    expect(w).toEqual({ today: null, current: [1, 3], previous: [2, 4] });
  });
});
