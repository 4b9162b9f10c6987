import { useEffect, useLayoutEffect, useMemo, useState } from "preact/hooks";
import { ApiError } from "../api/client";
import type { HostInfo, HostKind, Hosts } from "../api/types";
import { CopyCode } from "../components/CopyCode";
import { Sparkline } from "../components/Sparkline";
import { StatusBadge } from "../components/StatusBadge";
import { useApp, useConnection } from "../context";
import { formatDateTime, formatIso } from "../lib/format";
import { SPARKLINE_RANGE, diskMounts, mountLabel, seriesKey, summarize } from "../lib/metricSeries";
import { Poller } from "../lib/poller";
import { buildHash } from "../lib/router";
import { SeriesLoader, type SeriesData } from "../lib/seriesLoader";
import { useTeamTimeZone } from "../lib/teamTimeZone";
import {
  formatHttpStatus,
  formatInterval,
  formatMs,
  formatNumber,
  formatPercent,
  formatRate,
} from "../lib/units";
import { LiveMeta, PanelErrors, isAbort, lastSeenText } from "./HostsShared";
import { useLiveTopics } from "../lib/useLive";

/** The metric each kind's sparkline shows. */
export const SPARK: Record<HostKind, { metric: string; name: string; max?: number; format: (v: number | null, l?: string) => string }> = {
  vm: { metric: "cpu.percent", name: "CPU", max: 100, format: formatPercent },
  webapp: { metric: "http.response_time_ms", name: "Response time", format: formatMs },
};

export function hostHref(h: Pick<HostInfo, "host" | "kind">, range?: string): string {
  return buildHash("/hosts", { host: h.host, kind: h.kind, ...(range ? { range } : {}) });
}

export function HostsList() {
  const { api, locale, timeZone, setTimeZone, theme, refreshMs } = useApp();
  const [hosts, setHosts] = useState<Hosts | null>(null);
  const [spark, setSpark] = useState<SeriesData | null>(null);
  const [errors, setErrors] = useState<Record<string, ApiError>>({});
  const [at, setAt] = useState<number | null>(null);
  const loader = useMemo(() => new SeriesLoader(api), [api]);

  const poller = useMemo(
    () =>
      new Poller({
        intervalMs: refreshMs,
        run: async (signal) => {
          const errs: Record<string, ApiError> = {};
          let list: Hosts | null = null;
          try {
            list = (await api.hosts({ signal })).data;
          } catch (e) {
            if (isAbort(e, signal)) return;
            if (e instanceof ApiError) errs.hosts = e;
          }
          if (list) {
            setHosts(list);
            const targets = list.hosts.map((h) => ({ host: h.host, kind: h.kind, metrics: [SPARK[h.kind].metric] }));
            try {
              setSpark(await loader.load(targets, SPARKLINE_RANGE, Date.now(), signal));
            } catch (e) {
              if (isAbort(e, signal)) return;
              if (e instanceof ApiError) errs.sparklines = e;
            }
            setAt(Date.now());
          }
          if (signal.aborted) return;
          setErrors((prev) => (Object.keys(prev).length === 0 && Object.keys(errs).length === 0 ? prev : errs));
        },
      }),
    [api, refreshMs, loader],
  );

  useLayoutEffect(() => {
    poller.start();
    return () => poller.stop();
  }, [poller]);
  useLiveTopics(["hosts"], () => poller.refresh());

  useEffect(() => {
    document.title = "Hosts · Mission Control"; // back from a host's page inside the same route
  }, []);

  useTeamTimeZone(api, timeZone, setTimeZone, hosts?.timezone);
  const offline = useConnection(api).state === "down";

  const list = hosts?.hosts ?? null;
  const vms = list?.filter((h) => h.kind === "vm") ?? [];
  const apps = list?.filter((h) => h.kind === "webapp") ?? [];
  const now = at ?? Date.now();
  const apiOrigin = api.baseUrl || location.origin;

  const card = (h: HostInfo) => (
    <HostCard key={`${h.kind}:${h.host}`} h={h} spark={spark} now={now} timeZone={timeZone} locale={locale} theme={theme} />
  );

  return (
    <section class="page hosts" aria-labelledby="page-title">
      <header class="page__header">
        <div>
          <h1 id="page-title" tabIndex={-1}>
            Hosts
          </h1>
          <LiveMeta at={hosts ? at : null} offline={offline} timeZone={timeZone} locale={locale} refreshMs={refreshMs} />
        </div>
      </header>

      <PanelErrors errors={errors} />

      {list === null && (
        <section class="panel host-section" aria-labelledby="machines-title" aria-busy="true">
          <h2 id="machines-title" class="panel__title">
            Machines
          </h2>
          <ul class="host-grid" data-testid="hosts-loading">
            {[0, 1, 2].map((i) => (
              <li key={i} class="host-card host-card--skeleton" aria-hidden="true">
                <span class="skeleton" />
                <span class="skeleton skeleton--block" />
              </li>
            ))}
          </ul>
        </section>
      )}

      {list !== null && list.length === 0 && <HostsEmpty apiOrigin={apiOrigin} />}

      {vms.length > 0 && (
        <section class="panel host-section" aria-labelledby="machines-title">
          <h2 id="machines-title" class="panel__title">
            Machines <span class="muted">· {vms.length}</span>
          </h2>
          <ul class="host-grid" data-testid="machines">
            {vms.map(card)}
          </ul>
        </section>
      )}

      {apps.length > 0 && (
        <section class="panel host-section" aria-labelledby="webapps-title">
          <h2 id="webapps-title" class="panel__title">
            Web apps <span class="muted">· {apps.length}</span>
          </h2>
          <ul class="host-grid" data-testid="webapps">
            {apps.map(card)}
          </ul>
        </section>
      )}
    </section>
  );
}

interface Stat {
  label: string;
  value: string;
}

function vmStats(v: Record<string, number>, locale?: string): Stat[] {
  const mounts = diskMounts(v);
  const disk = mounts[0];
  return [
    { label: "CPU", value: formatPercent(v["cpu.percent"], locale) },
    { label: "Memory", value: formatPercent(v["mem.used_percent"], locale) },
    {
      label: disk ? `Disk ${mountLabel(disk)}` : "Disk",
      value: disk ? formatPercent(v[`disk.${disk}.used_percent`], locale) : "–",
    },
    { label: "Load 1 min", value: formatNumber(v["load.1m"], locale) },
  ];
}

function appStats(v: Record<string, number>, locale?: string): Stat[] {
  return [
    { label: "Response time", value: formatMs(v["http.response_time_ms"], locale) },
    { label: "Requests", value: formatRate(v["app.requests_per_s"], "req/s", locale) },
    { label: "Error rate", value: formatPercent(v["http.error_rate"], locale) },
    { label: "HTTP status", value: formatHttpStatus(v["http.status"]) },
  ];
}

function HostCard(props: {
  h: HostInfo;
  spark: SeriesData | null;
  now: number;
  timeZone: string;
  locale: string | undefined;
  theme: "light" | "dark";
}) {
  const { h, spark, now, timeZone, locale, theme } = props;
  const s = SPARK[h.kind];
  const values = spark?.grid.values[seriesKey(h.host, h.kind, s.metric)] ?? null;
  const sum = spark ? summarize(spark.grid.t, values ?? undefined) : null;
  const stats = h.kind === "vm" ? vmStats(h.values, locale) : appStats(h.values, locale);
  const sparkLabel = `${s.name} over ${SPARKLINE_RANGE.long}: ${
    sum === null
      ? "loading"
      : sum.count === 0
        ? "no data"
        : `latest ${s.format(sum.latest, locale)}, lowest ${s.format(sum.min, locale)}, highest ${s.format(sum.max, locale)}`
  }`;
  const platform = h.meta?.platform;

  return (
    <li class={`host-card host-card--${h.status}`} data-testid="host-card" data-host={h.host}>
      <div class="host-card__head">
        <h3 class="host-card__name">
          <a href={hostHref(h)} class="host-card__link">
            {h.host}
          </a>
        </h3>
        <StatusBadge status={h.status} />
      </div>
      {h.kind === "vm" && (
        <p class="host-card__sub muted" title={platform}>
          {platform ?? "Machine"}
        </p>
      )}
      <dl class="host-card__stats">
        {stats.map((st) => (
          <div key={st.label}>
            <dt>{st.label}</dt>
            <dd>{st.value}</dd>
          </div>
        ))}
      </dl>
      <div class="host-card__spark">
        <span class="host-card__spark-label" aria-hidden="true">
          {s.name} · {SPARKLINE_RANGE.short}
        </span>
        <Sparkline values={values} max={s.max} label={sparkLabel} theme={theme} testId="sparkline" />
      </div>
      <p class="host-card__seen muted">
        Last sample{" "}
        <time dateTime={formatIso(h.lastSeen, timeZone)} title={formatDateTime(h.lastSeen, timeZone, locale)}>
          {lastSeenText(h.lastSeen, now, timeZone, locale)}
        </time>{" "}
        · every {formatInterval(h.intervalMs)}
      </p>
    </li>
  );
}

/** No host has sent a sample: say how to start the agent. */
function HostsEmpty({ apiOrigin }: { apiOrigin: string }) {
  const command =
    `export MISSIONCTL_AGENT_API_KEY='<your API key>'\n` + `.venv/bin/missionctl-agent --url ${apiOrigin}`;
  return (
    <section class="panel empty" aria-labelledby="hosts-empty-title" data-testid="hosts-empty">
      <h2 id="hosts-empty-title">No hosts yet</h2>
      <p>
        No machine or web app has sent a sample. Start the collector agent on a machine to watch; it samples CPU, memory,
        disks and network every 10 seconds, and the machine shows up here within seconds. From the repository root (after{" "}
        <code>.venv/bin/pip install -e collectors</code>):
      </p>
      <CopyCode code={command} />
      <p class="muted">
        The key is an API key with the <code>ingest:metrics</code> scope (an admin makes one with{" "}
        <code>.venv/bin/missionctl apikey create --scope ingest:metrics</code>). Add <code>--watch NAME=URL</code> to check a web
        app's response time and errors too. Every option is in <code>collectors/README.md</code>.
      </p>
    </section>
  );
}
