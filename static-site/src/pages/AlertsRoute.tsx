// The Alerts console is its own chunk, as the Hosts console is: the Overview does not pay for
// it; it is fetched while the browser is idle after the first page is up.

import { useEffect, useState } from "preact/hooks";

type AlertsModule = typeof import("./Alerts");

let loaded: AlertsModule | null = null;
let loading: Promise<AlertsModule> | null = null;

function loadAlerts(): Promise<AlertsModule> {
  if (!loading) {
    loading = import("./Alerts").then(
      (m) => (loaded = m),
      (e) => {
        loading = null; // a later attempt may work (network back, new deployment)
        throw e;
      },
    );
  }
  return loading;
}

/** Fetch the chunk when the browser is idle; returns the cancel function (an effect cleanup). */
export function prefetchAlerts(): () => void {
  if (loaded || loading) return () => undefined;
  const go = () => void loadAlerts().catch(() => undefined);
  if (typeof requestIdleCallback === "function") {
    const id = requestIdleCallback(go, { timeout: 5000 });
    return () => cancelIdleCallback(id);
  }
  const id = setTimeout(go, 2000);
  return () => clearTimeout(id);
}

export function AlertsRoute({ query }: { query: URLSearchParams }) {
  const [mod, setMod] = useState<AlertsModule | null>(loaded);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    if (mod) return;
    let live = true;
    loadAlerts().then(
      (m) => live && setMod(() => m),
      () => live && setFailed(true),
    );
    return () => {
      live = false;
    };
  }, [mod]);

  if (mod) return <mod.Alerts query={query} />;
  return (
    <section class="page" aria-labelledby="page-title" aria-busy={!failed}>
      <header class="page__header">
        <div>
          <h1 id="page-title" tabIndex={-1}>
            Alerts
          </h1>
          <p class="page__meta">{failed ? "" : "Loading…"}</p>
        </div>
      </header>
      {failed && (
        <div class="banner banner--error" role="alert">
          <span class="banner__icon" aria-hidden="true">
            ⚠
          </span>
          <div>
            <strong>The Alerts console could not be loaded.</strong>{" "}
            <button type="button" class="button button--small" onClick={() => location.reload()}>
              Reload
            </button>
          </div>
        </div>
      )}
    </section>
  );
}
