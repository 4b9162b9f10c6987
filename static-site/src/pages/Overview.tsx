import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError } from "../api/client";
import { PERIODS, type Period } from "../api/types";
import { AlertsPanel } from "../components/AlertsPanel";
import { EmptyState } from "../components/EmptyState";
import { KpiCard } from "../components/KpiCard";
import { OpenInsights } from "../components/OpenInsights";
import { PeriodSwitch } from "../components/PeriodSwitch";
import { ProductsTable } from "../components/ProductsTable";
import { RevenueChart } from "../components/RevenueChart";
import { UsersPanel } from "../components/UsersPanel";
import { useApp, useConnection } from "../context";
import {
  PERIOD_LABELS,
  formatChange,
  formatCount,
  formatFraction,
  formatMoney,
} from "../lib/format";
import { Poller } from "../lib/poller";
import { INITIAL, mergeRound, type Key, type State } from "./overviewState";
import { buildHash, navigate } from "../lib/router";
import { useLiveTopics } from "../lib/useLive";
import { LiveMeta } from "./HostsShared";

function parsePeriod(v: string | null): Period {
  return PERIODS.includes(v as Period) ? (v as Period) : "24h";
}

/** The first time KPI values are on screen: the e2e test reads this mark. */
function markFirstKpiPaint() {
  if (performance.getEntriesByName("mc:first-kpi").length) return;
  requestAnimationFrame(() => setTimeout(() => performance.mark("mc:first-kpi"), 0));
}

export function Overview({ query }: { query: URLSearchParams }) {
  const { api, locale, timeZone, setTimeZone, theme, refreshMs } = useApp();
  const period = parsePeriod(query.get("period"));
  const [state, setState] = useState<State>(INITIAL);
  const periodRef = useRef(period);
  periodRef.current = period;

  const poller = useMemo(
    () =>
      new Poller({
        intervalMs: refreshMs,
        run: async (signal) => {
          const p = periodRef.current;
          const results = await Promise.allSettled([
            api.kpis(p, { signal }),
            api.revenue(1, { signal }),
            api.users({ signal }),
            api.products(p, 5, { signal }),
          ]);
          if (signal.aborted) return;
          setState((prev) => mergeRound(prev, results, Date.now()));
        },
      }),
    [api, refreshMs],
  );

  // A layout effect, not an effect: the first requests leave right after the first render
  // instead of waiting for the browser to paint it.
  useLayoutEffect(() => {
    poller.start();
    return () => poller.stop();
  }, [poller]);
  // A purchase, page view or event was stored: every number here derives from them.
  useLiveTopics(["kpis"], () => poller.refresh());

  // A new period: fetch at once (aborting a refresh in flight for the old one).
  const firstPeriod = useRef(true);
  useEffect(() => {
    if (firstPeriod.current) firstPeriod.current = false;
    else poller.refresh();
  }, [period]);

  const { kpis, revenue, users, products, errors } = state;
  const offline = useConnection(api).state === "down";

  useEffect(() => {
    if (kpis && kpis.timezone !== timeZone) setTimeZone(kpis.timezone);
  }, [kpis?.timezone]);

  useLayoutEffect(() => {
    if (kpis) markFirstKpiPaint();
  }, [kpis !== null]);

  // "Live · as of": when the API last confirmed the numbers, a 304 included (it says they are current).
  const asOf = kpis ? state.confirmedAt ?? kpis.to : null;
  const currency = kpis?.currency ?? revenue?.currency ?? products?.currency ?? "USD";
  const kpiStale = kpis !== null && kpis.period !== period;
  const productsStale = products !== null && products.window !== period;
  const previousLabel = PERIOD_LABELS[period]!.previous;

  const isEmpty =
    kpis !== null &&
    revenue !== null &&
    products !== null &&
    !kpiStale &&
    kpis.orders.value === 0 &&
    kpis.orders.previous === 0 &&
    products.products.length === 0 &&
    revenue.days.every((d) => d.revenue === 0 && d.previousWeek === 0);

  const panelErrors = (Object.entries(errors) as [Key, ApiError][]).filter(([, e]) => !e.isOutage);

  const cards = [
    {
      id: "revenue",
      label: "Revenue",
      fmt: (v: number) => formatMoney(v, currency, locale),
      metric: kpis?.revenue,
    },
    { id: "orders", label: "Orders", fmt: (v: number) => formatCount(v, locale), metric: kpis?.orders },
    {
      id: "aov",
      label: "Average order value",
      fmt: (v: number) => formatMoney(v, currency, locale),
      metric: kpis?.aov,
    },
    { id: "conversion", label: "Conversion", fmt: (v: number) => formatFraction(v, locale), metric: kpis?.conversion },
  ];

  const apiOrigin = api.baseUrl || location.origin;

  return (
    <section class="page overview" aria-labelledby="page-title">
      <header class="page__header">
        <div>
          <h1 id="page-title" tabIndex={-1}>
            Overview
          </h1>
          <LiveMeta at={kpis ? asOf : null} offline={offline} timeZone={kpis?.timezone ?? ""} locale={locale} refreshMs={refreshMs} />
        </div>
        <PeriodSwitch value={period} onChange={(p) => navigate(buildHash("/", { period: p }), { replace: true })} />
      </header>

      {panelErrors.length > 0 && (
        <div class="banner banner--warning" role="alert">
          <span class="banner__icon" aria-hidden="true">
            ⚠
          </span>
          <div>
            {panelErrors.map(([key, e]) => (
              <p key={key}>
                <strong>Could not refresh {key}:</strong> {e.message} <span class="muted">({e.code})</span>
              </p>
            ))}
          </div>
        </div>
      )}

      {isEmpty && <EmptyState apiOrigin={apiOrigin} currency={currency} />}
      <OpenInsights />

      <div class="kpis" data-testid="kpis">
        {cards.map((c) => {
          const m = c.metric;
          return (
            <KpiCard
              key={c.id}
              id={c.id}
              label={c.label}
              value={m ? c.fmt(m.value) : null}
              change={m ? formatChange(m.change, locale, previousLabel) : null}
              previous={m ? c.fmt(m.previous) : null}
              stale={kpiStale}
            />
          );
        })}
      </div>

      <div class="grid-2">
        <section class="panel revenue" aria-labelledby="revenue-title">
          <h2 id="revenue-title" class="panel__title">
            Revenue <span class="muted">· this week against last week</span>
          </h2>
          <RevenueChart
            days={revenue?.days ?? null}
            currency={revenue?.currency ?? currency}
            locale={locale}
            theme={theme}
            asOf={revenue?.asOf ?? null}
            timeZone={revenue?.timezone}
          />
        </section>
        <UsersPanel users={users} locale={locale} />
      </div>

      <ProductsTable data={products} locale={locale} stale={productsStale} />

      <AlertsPanel />
    </section>
  );
}
