import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError } from "../api/client";
import type { HostInfo, HostKind, Hosts } from "../api/types";
import { RangeSwitch } from "../components/RangeSwitch";
import { StatusBadge } from "../components/StatusBadge";
import { TimeChart, type ChartSeries } from "../components/TimeChart";
import { useHostInsights } from "../lib/hostInsights";
import { useApp, useConnection } from "../context";
import { formatDateTime, formatIso } from "../lib/format";
import {
  diskMounts,
  mountLabel,
  rangeById,
  seriesKey,
  visibleSpan,
  type RangeDef,
  type RangeId,
} from "../lib/metricSeries";
import { Poller } from "../lib/poller";
import { buildHash, navigate } from "../lib/router";
import { SeriesLoader, type SeriesData } from "../lib/seriesLoader";
import { useTeamTimeZone } from "../lib/teamTimeZone";
import {
  formatHttpStatus,
  formatInterval,
  formatMs,
  formatNumber,
  formatPercent,
  formatRate,
  formatUptime,
  formatterFor,
  type UnitKind,
} from "../lib/units";
import { LiveMeta, PanelErrors, isAbort, lastSeenText } from "./HostsShared";
import { useLiveTopics } from "../lib/useLive";

export interface ChartDef {
  id: string;
  title: string;
  unit: UnitKind;
  rateUnit?: string;
  yMax?: number;
  series: { metric: string; label: string }[];
  /** Shown under the chart: where the data comes from when it is optional. */
  hint?: string;
}

/** At most this many disks on the disk-space chart (one line style each). */
const MAX_MOUNTS = 6;

export function chartsFor(kind: HostKind, values: Record<string, number> | null): ChartDef[] {
  if (kind === "webapp") {
    return [
      { id: "response", title: "Response time", unit: "ms", series: [{ metric: "http.response_time_ms", label: "Response time" }] },
      {
        id: "requests",
        title: "Request rate",
        unit: "perSecond",
        rateUnit: "req/s",
        series: [{ metric: "app.requests_per_s", label: "Requests" }],
        hint: "Reported by the app itself: start the agent with --app-metrics-url NAME=URL.",
      },
      {
        id: "errors",
        title: "Error rate",
        unit: "percent",
        series: [{ metric: "http.error_rate", label: "Failed checks, last 5 min" }],
      },
      {
        id: "users",
        title: "Active users",
        unit: "number",
        series: [{ metric: "app.active_users", label: "Active users" }],
        hint: "Reported by the app itself, like the request rate.",
      },
    ];
  }
  const mounts = values ? diskMounts(values) : ["root"];
  return [
    { id: "cpu", title: "CPU", unit: "percent", yMax: 100, series: [{ metric: "cpu.percent", label: "CPU busy" }] },
    {
      id: "memory",
      title: "Memory",
      unit: "percent",
      yMax: 100,
      series: [
        { metric: "mem.used_percent", label: "Memory used" },
        { metric: "swap.used_percent", label: "Swap used" },
      ],
    },
    {
      id: "disk",
      title: "Disk space",
      unit: "percent",
      yMax: 100,
      series: mounts.slice(0, MAX_MOUNTS).map((m) => ({ metric: `disk.${m}.used_percent`, label: `${mountLabel(m)} used` })),
      hint: mounts.length > MAX_MOUNTS ? `${mounts.length - MAX_MOUNTS} more filesystems not shown.` : undefined,
    },
    {
      id: "diskio",
      title: "Disk I/O",
      unit: "bytesPerSecond",
      series: [
        { metric: "disk.read_bytes_per_s", label: "Read" },
        { metric: "disk.write_bytes_per_s", label: "Write" },
      ],
    },
    {
      id: "network",
      title: "Network",
      unit: "bytesPerSecond",
      series: [
        { metric: "net.rx_bytes_per_s", label: "Received" },
        { metric: "net.tx_bytes_per_s", label: "Sent" },
      ],
    },
    {
      id: "load",
      title: "Load average",
      unit: "number",
      series: [
        { metric: "load.1m", label: "1 min" },
        { metric: "load.5m", label: "5 min" },
        { metric: "load.15m", label: "15 min" },
      ],
    },
  ];
}

export function findHost(hosts: Hosts | null, host: string, kind: HostKind | null): HostInfo | null {
  if (!hosts) return null;
  const named = hosts.hosts.filter((h) => h.host === host);
  return named.find((h) => h.kind === kind) ?? (kind ? null : named.find((h) => h.kind === "vm") ?? named[0] ?? null);
}

export function HostsView({ host, kind, rangeId }: { host: string; kind: HostKind | null; rangeId: RangeId }) {
  const { api, locale, timeZone, setTimeZone, theme, refreshMs } = useApp();
  const range = rangeById(rangeId)!;
  const [hosts, setHosts] = useState<Hosts | null>(null);
  /** When the host list was last confirmed (200 or 304): the page's "as of" when no chart loads. */
  const [hostsAt, setHostsAt] = useState<number | null>(null);
  const [data, setData] = useState<SeriesData | null>(null);
  const [errors, setErrors] = useState<Record<string, ApiError>>({});
  const loader = useMemo(() => new SeriesLoader(api), [api]);
  const rangeRef = useRef<RangeDef>(range);
  rangeRef.current = range;

  const poller = useMemo(
    () =>
      new Poller({
        intervalMs: refreshMs,
        run: async (signal) => {
          const errs: Record<string, ApiError> = {};
          let list: Hosts | null = null;
          try {
            list = (await api.hosts({ signal })).data;
            setHosts(list);
            setHostsAt(Date.now());
          } catch (e) {
            if (isAbort(e, signal)) return;
            if (e instanceof ApiError) errs.host = e;
          }
          const info = findHost(list, host, kind);
          if (info) {
            const metrics = chartsFor(info.kind, info.values).flatMap((c) => c.series.map((s) => s.metric));
            try {
              setData(await loader.load([{ host, kind: info.kind, metrics }], rangeRef.current, Date.now(), signal));
            } catch (e) {
              if (isAbort(e, signal)) return;
              if (e instanceof ApiError) errs.charts = e;
            }
          }
          if (signal.aborted) return;
          setErrors((prev) => (Object.keys(prev).length === 0 && Object.keys(errs).length === 0 ? prev : errs));
        },
      }),
    [api, refreshMs, loader, host, kind],
  );

  useLayoutEffect(() => {
    poller.start();
    return () => poller.stop();
  }, [poller]);
  useLiveTopics(["hosts", `host:${host}`], () => poller.refresh());

  // A new range: read it at once (aborting a refresh in flight for the old one).
  const firstRange = useRef(true);
  useEffect(() => {
    if (firstRange.current) firstRange.current = false;
    else poller.refresh();
  }, [rangeId]);

  useEffect(() => {
    document.title = `${host} · Hosts · Mission Control`;
  }, [host]);

  useTeamTimeZone(api, timeZone, setTimeZone, hosts?.timezone);
  const offline = useConnection(api).state === "down";

  const info = findHost(hosts, host, kind);
  const shownKind: HostKind = info?.kind ?? kind ?? "vm";
  const charts = chartsFor(shownKind, info ? info.values : null);
  const stale = data !== null && data.range.id !== range.id;
  const grid = data?.grid ?? null;
  const syncKey = `host:${shownKind}:${host}`;
  const unknown = hosts !== null && info === null;
  const chartKeys = charts.flatMap((c) => c.series.map((s) => seriesKey(host, shownKind, s.metric)));
  const span = useMemo(() => (grid ? visibleSpan(grid, chartKeys) : null), [grid, chartKeys.join("|")]);
  const insightWindows = useHostInsights(api, host, refreshMs);

  const setRange = (r: RangeId) =>
    navigate(buildHash("/hosts", { host, ...(kind ? { kind } : {}), range: r }), { replace: true });

  return (
    <section class="page host-view" aria-labelledby="page-title">
      <nav class="breadcrumb" aria-label="Breadcrumb">
        <a href="#/hosts">
          <span aria-hidden="true">← </span>All hosts
        </a>
      </nav>
      <header class="page__header">
        <div class="host-view__title">
          <h1 id="page-title" tabIndex={-1}>
            {host}
          </h1>
          <p class="host-view__facts">
            {!unknown && <StatusBadge status={info?.status ?? null} />}
            <span>{shownKind === "vm" ? "Machine" : "Web app"}</span>
            {info && (
              <span>
                Last sample{" "}
                <time dateTime={formatIso(info.lastSeen, timeZone)} title={formatDateTime(info.lastSeen, timeZone, locale)}>
                  {lastSeenText(info.lastSeen, data?.at ?? Date.now(), timeZone, locale)}
                </time>{" "}
                · every {formatInterval(info.intervalMs)}
              </span>
            )}
          </p>
          <LiveMeta
            at={data && !unknown ? data.at : hostsAt}
            offline={offline}
            timeZone={timeZone}
            locale={locale}
            refreshMs={refreshMs}
            extra={unknown ? undefined : `${formatInterval(range.step)} points`}
          />
        </div>
        <RangeSwitch value={range.id} onChange={setRange} />
      </header>

      <PanelErrors errors={errors} />

      {unknown ? (
        <div class="panel" data-testid="host-unknown">
          <p>
            No {kind === "webapp" ? "web app" : kind === "vm" ? "machine" : "host"} named <code>{host}</code> has sent a
            sample. <a href="#/hosts">See all hosts</a>.
          </p>
        </div>
      ) : (
        <>
          {info && <LatestValues info={info} locale={locale} />}
          <div class="chart-grid" data-testid="host-charts">
            {charts.map((c) => {
              const series: ChartSeries[] = c.series.map((s) => ({ key: seriesKey(host, shownKind, s.metric), label: s.label }));
              const format = formatterFor(c.unit, locale, c.rateUnit);
              return (
                <section key={c.id} class="panel chart-panel" aria-labelledby={`chart-${c.id}-title`}>
                  <h2 id={`chart-${c.id}-title`} class="panel__title">
                    {c.title}
                  </h2>
                  <TimeChart
                    title={c.title}
                    series={series}
                    grid={grid}
                    range={stale ? data!.range : range}
                    format={format}
                    yMax={c.yMax}
                    timeZone={timeZone}
                    locale={locale}
                    theme={theme}
                    syncKey={syncKey}
                    span={span}
                    stale={stale}
                    testId={`chart-${c.id}`}
                    markers={c.series.flatMap((s) => insightWindows[s.metric] ?? [])}
                  />
                  {c.hint && <p class="chart-panel__hint muted">{c.hint}</p>}
                </section>
              );
            })}
          </div>
        </>
      )}
    </section>
  );
}

/** The latest values as numbers, so the current state does not depend on reading a chart. */
function LatestValues({ info, locale }: { info: HostInfo; locale: string | undefined }) {
  const v = info.values;
  const rows: [string, string][] =
    info.kind === "vm"
      ? [
          ["CPU", formatPercent(v["cpu.percent"], locale)],
          ["Memory", formatPercent(v["mem.used_percent"], locale)],
          ["Swap", formatPercent(v["swap.used_percent"], locale)],
          ["Load 1 min", formatNumber(v["load.1m"], locale)],
          ["Uptime", formatUptime(v["system.uptime_s"])],
        ]
      : [
          ["HTTP status", formatHttpStatus(v["http.status"])],
          ["Response time", formatMs(v["http.response_time_ms"], locale)],
          ["Error rate", formatPercent(v["http.error_rate"], locale)],
          ["Requests", formatRate(v["app.requests_per_s"], "req/s", locale)],
          ["Active users", formatNumber(v["app.active_users"], locale)],
        ];
  const platform = info.kind === "vm" ? info.meta?.platform : undefined;
  return (
    <section class="panel latest" aria-labelledby="latest-title">
      <h2 id="latest-title" class="sr-only">
        Latest values
      </h2>
      <dl class="latest__stats" data-testid="latest-values">
        {rows.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      {platform && (
        <p class="latest__platform muted">
          {info.meta.hostname && info.meta.hostname !== info.host ? `${info.meta.hostname} · ` : ""}
          {platform}
        </p>
      )}
    </section>
  );
}
