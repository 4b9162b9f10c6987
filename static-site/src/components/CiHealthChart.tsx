import { useLayoutEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import type { WorkflowHealth } from "../api/ci";
import { healthSeries } from "../lib/ci";
import { followContainerWidth } from "../lib/plotWidth";
import type { Theme } from "../lib/theme";

const HEIGHT = 180;

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

/** One workflow's last 30 days: failure rate (%) and p90 duration (minutes), days without runs as gaps. */
export function CiHealthChart({ workflow, today, theme }: { workflow: WorkflowHealth; today: string; theme: Theme }) {
  const host = useRef<HTMLDivElement>(null);
  const data = healthSeries(workflow, today);
  const key = JSON.stringify(data);
  useLayoutEffect(() => {
    const el = host.current;
    if (!el) return;
    const axis = { stroke: cssVar("--text-muted"), grid: { stroke: cssVar("--grid") }, ticks: { stroke: cssVar("--grid") } };
    const opts: uPlot.Options = {
      width: Math.max(240, el.clientWidth),
      height: HEIGHT,
      scales: { x: { time: false }, pct: { range: [0, 100] }, min: { range: (_u, _lo, hi) => [0, Math.max(1, hi ?? 1) * 1.1] } },
      series: [
        { label: "Day", value: (_u, v) => (v == null ? "" : data.labels[v] ?? "") },
        { label: "Failure rate %", scale: "pct", stroke: cssVar("--down"), width: 2, spanGaps: false, points: { show: true } },
        { label: "p90 duration (min)", scale: "min", stroke: cssVar("--chart-current"), width: 2, spanGaps: false, points: { show: true } },
      ],
      axes: [
        { ...axis, values: (_u, ticks) => ticks.map((t) => (data.labels[t] ?? "").slice(5)) },
        { ...axis, scale: "pct", values: (_u, ticks) => ticks.map((t) => `${t}%`) },
        { ...axis, scale: "min", side: 1, grid: { show: false }, values: (_u, ticks) => ticks.map((t) => `${t}m`) },
      ],
    };
    const u = new uPlot(opts, [data.labels.map((_, i) => i), data.failure, data.p90] as uPlot.AlignedData, el);
    return followContainerWidth(u, el, 240, HEIGHT);
  }, [key, theme]);
  return (
    <figure class="ci-chart" data-testid="ci-health-chart">
      <div ref={host} />
      <figcaption class="page__meta">
        {workflow.workflow} on {workflow.repo}: failure rate and p90 duration per day, last 30 days
      </figcaption>
    </figure>
  );
}
