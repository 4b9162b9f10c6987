import { useEffect, useLayoutEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import { followContainerWidth } from "../lib/plotWidth";
import type { RevenueDay } from "../api/types";
import { currencyDigits, dtf, formatDay, formatMoney, formatMoneyCompact, minorToMajor } from "../lib/format";
import { revenueWeek } from "../lib/revenueWeek";
import type { Theme } from "../lib/theme";

interface Props {
  days: RevenueDay[] | null;
  currency: string;
  locale: string | undefined;
  theme: Theme;
  /** The minute today's numbers run to (the API's `asOf`), and the team time zone to show it in. */
  asOf?: number | null;
  timeZone?: string;
}

const HEIGHT = 260;

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

/** "02:45" in the team time zone. */
function clock(ms: number, timeZone: string | undefined, locale: string | undefined): string {
  return dtf(locale, { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(ms);
}

/**
 * This week against last week. The uPlot instance is created once and then fed with setData,
 * so a refresh redraws the lines in place: no flicker, no new canvas, no layout shift.
 * x is the day index (labels come from the API's calendar dates, already in the team time zone).
 *
 * Today is still running, so it is not drawn as the end of the line (at 00:45 that would look
 * like a collapse): the lines join whole days only, and today is a hollow ring "so far", beside
 * last week's same day by the same time of day.
 */
export function RevenueChart({ days, currency, locale, theme, asOf = null, timeZone }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // Read by the axis/legend callbacks, so they always see the latest data without a rebuild.
  const latest = useRef({ days: days ?? [], currency, locale });
  latest.current = { days: days ?? [], currency, locale };
  const colors = useRef({ current: "", previous: "", axis: "", grid: "", surface: "" });

  const toData = (ds: RevenueDay[]): uPlot.AlignedData => {
    const w = revenueWeek(ds);
    return [ds.map((_, i) => i), w.current.map((v) => minorToMajor(v, currency)), w.previous.map((v) => minorToMajor(v, currency))];
  };

  const readColors = () => {
    colors.current = {
      current: cssVar("--chart-current"),
      previous: cssVar("--chart-previous"),
      axis: cssVar("--text-muted"),
      grid: cssVar("--grid"),
      surface: cssVar("--surface"),
    };
  };

  useLayoutEffect(() => {
    const el = host.current;
    if (!el) return;
    readColors();
    // The chart plots major units; format them back from minor units, exactly.
    const toMinor = (v: number) => Math.round(v * 10 ** currencyDigits(latest.current.currency));
    const legendMoney = (v: number | null, si: 1 | 2) => {
      const { days: ds, currency: c, locale: l } = latest.current;
      if (v != null) return formatMoney(toMinor(v), c, l);
      const w = revenueWeek(ds);
      const last = (si === 1 ? w.current : w.previous).at(-1);
      return last !== undefined ? formatMoney(last, c, l) : "–";
    };
    const todayIndex = () => revenueWeek(latest.current.days).today;
    // No line into today: it would fall from a whole day to a few hours' worth.
    const gapBeforeToday: uPlot.Series.GapsRefiner = (u, _si, _i0, _i1, nullGaps) => {
      const t = todayIndex();
      if (t === null || t < 1) return nullGaps;
      return [...nullGaps, [Math.round(u.valToPos(t - 1, "x", true)), Math.round(u.valToPos(t, "x", true))]];
    };
    // Today's values as hollow rings: numbers still growing.
    const drawToday = (u: uPlot) => {
      const t = todayIndex();
      if (t === null) return;
      const ctx = u.ctx;
      const r = devicePixelRatio || 1;
      ctx.save();
      ctx.setLineDash([]);
      for (const [si, color, radius] of [[2, colors.current.previous, 4.5], [1, colors.current.current, 6]] as const) {
        const v = u.data[si]?.[t];
        if (v == null) continue;
        ctx.beginPath();
        ctx.arc(u.valToPos(t, "x", true), u.valToPos(v, "y", true), radius * r, 0, 2 * Math.PI);
        ctx.fillStyle = colors.current.surface;
        ctx.fill();
        ctx.lineWidth = 2.5 * r;
        ctx.strokeStyle = color;
        ctx.stroke();
      }
      ctx.restore();
    };
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: HEIGHT,
      // Tolerate a week of zeros (a fresh store): uPlot needs a non-empty y range.
      scales: {
        // A quarter of a day's room at each end, so the first and last points (today's ring) show whole.
        x: { time: false, range: (_u, min, max) => [min - 0.25, max + 0.25] },
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
            if (!d) return "–";
            return formatDay(d.date, latest.current.locale) + (d.partial ? ", so far" : "");
          },
        },
        {
          label: "This week",
          stroke: () => colors.current.current,
          width: 2.5,
          gaps: gapBeforeToday,
          points: {
            show: true,
            size: 6,
            fill: () => colors.current.current,
            filter: () => {
              const t = todayIndex();
              return latest.current.days.map((_, i) => i).filter((i) => i !== t);
            },
          },
          value: (_u, v) => legendMoney(v, 1),
        },
        {
          label: "Last week",
          stroke: () => colors.current.previous,
          width: 2,
          dash: [6, 5], // dashed: the two weeks differ by more than their colour
          gaps: gapBeforeToday,
          points: { show: false },
          value: (_u, v) => legendMoney(v, 2),
        },
      ],
      hooks: { draw: [drawToday] },
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
  const today = days ? days[revenueWeek(days).today ?? -1] : undefined;
  const until = asOf != null ? clock(asOf, timeZone, locale) : null;

  return (
    <figure class="chart" aria-busy={days === null}>
      <figcaption class="sr-only">
        Revenue per day, this week against last week.
        {days && ` This week ${formatMoney(total("revenue"), currency, locale)}, last week ${formatMoney(total("previousWeek"), currency, locale)}.`}
      </figcaption>
      <div class="chart__canvas" ref={host} aria-hidden="true" data-testid="revenue-chart" />
      {today && (
        <p class="chart__note" data-testid="revenue-today">
          <span class="chart__ring" aria-hidden="true" /> Today so far{until ? ` (to ${until})` : ""}:{" "}
          <strong>{formatMoney(today.revenue, currency, locale)}</strong>, against{" "}
          {formatMoney(today.previousWeekSoFar ?? today.previousWeek, currency, locale)} last week by the same time
        </p>
      )}
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
                <td>
                  {formatMoney(d.revenue, currency, locale)}
                  {d.partial ? " so far" : ""}
                </td>
                <td>
                  {formatMoney(d.previousWeek, currency, locale)}
                  {d.partial && d.previousWeekSoFar !== undefined
                    ? ` (${formatMoney(d.previousWeekSoFar, currency, locale)} by the same time)`
                    : ""}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        </div>
      )}
    </figure>
  );
}
