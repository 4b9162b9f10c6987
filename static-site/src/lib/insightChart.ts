// The geometry of an insight's chart, pure so it is tested without a DOM: the points as a
// polyline, the anomalous window as a band, a forecast as a line to its limit with the
// interval on the limit's level.

import type { Insight } from "../api/types";

export interface ChartGeometry {
  line: string;
  /** The shaded window [x, width], or null (a prediction has none). */
  band: { x: number; width: number } | null;
  forecast: { x1: number; y1: number; x2: number; y2: number; from: number; to: number; limitY: number } | null;
}

export function insightGeometry(insight: Insight, width: number, height: number, pad = 4): ChartGeometry | null {
  const pts = insight.points;
  const f = insight.forecast && !insight.withdrawn ? insight.forecast : null;
  if (pts.length < 2 && !f) return null;
  let t0 = Infinity, t1 = -Infinity, v0 = Infinity, v1 = -Infinity;
  for (const [t, v] of pts) {
    t0 = Math.min(t0, t);
    t1 = Math.max(t1, t);
    v0 = Math.min(v0, v);
    v1 = Math.max(v1, v);
  }
  if (f) {
    t0 = Math.min(t0, f.atMs);
    t1 = Math.max(t1, f.latestMs);
    v0 = Math.min(v0, f.current, f.limit);
    v1 = Math.max(v1, f.current, f.limit);
  }
  if (v1 === v0) {
    v0 -= 1;
    v1 += 1;
  }
  const span = Math.max(t1 - t0, 1);
  const x = (t: number) => pad + ((t - t0) / span) * (width - 2 * pad);
  const y = (v: number) => height - pad - ((v - v0) / (v1 - v0)) * (height - 2 * pad);
  const line = pts.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  let band = null;
  if (insight.type !== "prediction") {
    const a = x(insight.startsAt);
    const b = x(insight.endsAt ?? t1);
    band = { x: a - 2, width: Math.max(b - a, 0) + 4 };
  }
  const forecast = f
    ? { x1: x(f.atMs), y1: y(f.current), x2: x(f.etaMs), y2: y(f.limit), from: x(f.earliestMs), to: x(f.latestMs), limitY: y(f.limit) }
    : null;
  return { line, band, forecast };
}
