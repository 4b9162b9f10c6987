import { useEffect, useLayoutEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import { followContainerWidth } from "../lib/plotWidth";
import type { RevenueDay } from "../api/types";
import { currencyDigits, formatDay, formatMoney, formatMoneyCompact, minorToMajor } from "../lib/format";
import type { Theme } from "../lib/theme";

interface Props {
  days: RevenueDay[] | null;
  currency: string;
  locale: string | undefined;
  theme: Theme;
}

const HEIGHT = 260;

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

/**
 * This week against last week. The uPlot instance is created once and then fed with setData,
 * so a refresh redraws the lines in place: no flicker, no new canvas, no layout shift.
 * x is the day index (labels come from the API's calendar dates, already in the team time zone).
 */
export function RevenueChart({ days, currency, locale, theme }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // Read by the axis/legend callbacks, so they always see the latest data without a rebuild.
  const latest = useRef({ days: days ?? [], currency, locale });
  latest.current = { days: days ?? [], currency, locale };
  const colors = useRef({ current: "", previous: "", axis: "", grid: "" });

  const toData = (ds: RevenueDay[]): uPlot.AlignedData => [
    ds.map((_, i) => i),
    ds.map((d) => minorToMajor(d.revenue, currency)),
    ds.map((d) => minorToMajor(d.previousWeek, currency)),
  ];

  const readColors = () => {
    colors.current = {
      current: cssVar("--chart-current"),
      previous: cssVar("--chart-previous"),
      axis: cssVar("--text-muted"),
      grid: cssVar("--grid"),
    };
  };

  useLayoutEffect(() => {
    const el = host.current;
    if (!el) return;
    readColors();
    // The chart plots major units; format them back from minor units, exactly.
    const toMinor = (v: number) => Math.round(v * 10 ** currencyDigits(latest.current.currency));
    const legendMoney = (v: number | null, key: "revenue" | "previousWeek") => {
      const { days: ds, currency: c, locale: l } = latest.current;
      if (v != null) return formatMoney(toMinor(v), c, l);
      const last = ds[ds.length - 1];
      return last ? formatMoney(last[key], c, l) : "–";
    };
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: HEIGHT,
      // Tolerate a week of zeros (a fresh store): uPlot needs a non-empty y range.
      scales: {
        x: { time: false },
        y: { range: (_u, min, max) => [0, Math.max(max, min, 1) * 1.1] },
      },
      cursor: { points: { size: 8 } },
      legend: { live: true },
      series: [
        {
          label: "Day",
          // Not hovering: the legend shows today (the last day).
          value: (_u, v) => {
            const ds = latest.current.days;
            const d = v == null ? ds[ds.length - 1] : ds[v];
            return d ? formatDay(d.date, latest.current.locale) : "–";
          },
        },
        {
          label: "This week",
          stroke: () => colors.current.current,
          width: 2.5,
          points: { show: true, size: 6, fill: () => colors.current.current },
          value: (_u, v) => legendMoney(v, "revenue"),
        },
        {
          label: "Last week",
          stroke: () => colors.current.previous,
          width: 2,
          dash: [6, 5], // dashed: the two weeks differ by more than their colour
          points: { show: false },
          value: (_u, v) => legendMoney(v, "previousWeek"),
        },
      ],
      axes: [
        {
          stroke: () => colors.current.axis,
          grid: { show: false },
          ticks: { show: false },
          splits: () => latest.current.days.map((_, i) => i),
          values: (_u, splits) =>
            splits.map((i) => {
              const d = latest.current.days[i];
              return d ? formatDay(d.date, latest.current.locale, "weekday") : "";
            }),
        },
        {
          stroke: () => colors.current.axis,
          grid: { stroke: () => colors.current.grid, width: 1 },
          ticks: { show: false },
          size: 64,
          values: (_u, splits) =>
            splits.map((v) => formatMoneyCompact(toMinor(v), latest.current.currency, latest.current.locale)),
        },
      ],
    };
    const u = new uPlot(opts, toData(latest.current.days), el);
    plot.current = u;

    const stop = followContainerWidth(u, el, 200, HEIGHT);
    return () => {
      stop();
      plot.current = null;
    };
  }, []);

  // New data: update in place.
  useEffect(() => {
    const u = plot.current;
    if (u && days) u.setData(toData(days));
  }, [days, currency]);

  // New theme: same chart, new colours.
  useEffect(() => {
    const u = plot.current;
    if (!u) return;
    readColors();
    u.redraw(false, true);
  }, [theme]);

  const total = (k: "revenue" | "previousWeek") => (days ?? []).reduce((s, d) => s + d[k], 0);

  return (
    <figure class="chart" aria-busy={days === null}>
      <figcaption class="sr-only">
        Revenue per day, this week against last week.
        {days && ` This week ${formatMoney(total("revenue"), currency, locale)}, last week ${formatMoney(total("previousWeek"), currency, locale)}.`}
      </figcaption>
      <div class="chart__canvas" ref={host} aria-hidden="true" data-testid="revenue-chart" />
      {days && (
        // sr-only on a wrapper: a table refuses to shrink to 1px and would widen the page.
        <div class="sr-only">
        <table>
          <caption>Revenue per day</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col">This week</th>
              <th scope="col">Same day last week</th>
            </tr>
          </thead>
          <tbody>
            {days.map((d) => (
              <tr key={d.date}>
                <th scope="row">{formatDay(d.date, locale)}</th>
                <td>{formatMoney(d.revenue, currency, locale)}</td>
                <td>{formatMoney(d.previousWeek, currency, locale)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        </div>
      )}
    </figure>
  );
}
