import { describe, expect, it } from "vitest";
import type { Insight } from "../api/types";
import { insightGeometry } from "./insightChart";

const base: Insight = {
  id: "1",
  type: "anomaly",
  severity: "HIGH",
  confidence: 90,
  message: "cpu.percent on web-1 rose to 80",
  affectedHosts: ["web-1"],
  metric: "cpu.percent",
  startsAt: 2000,
  endsAt: 2000,
  score: 0.98,
  feedback: null,
  points: [
    [0, 10],
    [1000, 12],
    [2000, 80],
    [3000, 11],
    [4000, 10],
  ],
};

describe("insightGeometry", () => {
  it("draws the points across the width and shades the anomalous window", () => {
    const g = insightGeometry(base, 104, 54)!;
    expect(g.line.split(" ")).toHaveLength(5);
    expect(g.line.startsWith("4.0,")).toBe(true);
    expect(g.band!.x).toBeCloseTo(4 + 48 - 2);
    expect(g.forecast).toBeNull();
  });

  it("shades an open window to the last point", () => {
    const g = insightGeometry({ ...base, endsAt: null }, 104, 54)!;
    expect(g.band!.x + g.band!.width).toBeCloseTo(100 + 2);
  });

  it("draws a forecast to its limit with the interval on the limit's level, and no band", () => {
    const prediction: Insight = {
      ...base,
      type: "prediction",
      endsAt: null,
      forecast: { limit: 100, etaMs: 8000, earliestMs: 7000, latestMs: 9000, slopePerHour: 1, current: 10, atMs: 4000 },
    };
    const g = insightGeometry(prediction, 104, 54)!;
    expect(g.band).toBeNull();
    expect(g.forecast!.limitY).toBeCloseTo(4);
    expect(g.forecast!.from).toBeLessThan(g.forecast!.x2);
    expect(g.forecast!.to).toBeCloseTo(100);
  });

  it("has nothing to draw without points", () => {
    expect(insightGeometry({ ...base, points: [] }, 100, 50)).toBeNull();
  });
});

describe("windowsByMetric", () => {
  it("gives each metric its insights' windows, open ones to their last point, no predictions", async () => {
    const { windowsByMetric } = await import("./hostInsights");
    const open: Insight = { ...base, id: "2", endsAt: null };
    const prediction: Insight = { ...base, id: "3", type: "prediction", metric: "disk.root.used_percent" };
    expect(windowsByMetric([base, open, prediction])).toEqual({
      "cpu.percent": [
        { from: 2000, to: 2000 },
        { from: 2000, to: 4000 },
      ],
    });
  });
});
