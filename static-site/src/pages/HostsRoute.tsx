// The Hosts console is its own chunk (assets/Hosts-<hash>.js + .css): the Overview, which most
// visits open, does not pay for it. It is fetched while the browser is idle after the first page
// is up, so opening Hosts later is instant; opened directly, it shows the page frame until the
// chunk is there.

import { useEffect, useRef, useState } from "preact/hooks";

type HostsModule = typeof import("./Hosts");

let loaded: HostsModule | null = null;
let loading: Promise<HostsModule> | null = null;

function loadHosts(): Promise<HostsModule> {
  if (!loading) {
    loading = import("./Hosts").then(
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
export function prefetchHosts(): () => void {
  if (loaded || loading) return () => undefined;
  const go = () => void loadHosts().catch(() => undefined);
  if (typeof requestIdleCallback === "function") {
    const id = requestIdleCallback(go, { timeout: 5000 });
    return () => cancelIdleCallback(id);
  }
  const id = setTimeout(go, 2000);
  return () => clearTimeout(id);
}

export function HostsRoute({ query }: { query: URLSearchParams }) {
  const [mod, setMod] = useState<HostsModule | null>(loaded);
  const [failed, setFailed] = useState(false);
  const headingHadFocus = useRef(false);

  useEffect(() => {
    if (mod) return;
    let live = true;
    loadHosts().then(
      (m) => {
        if (!live) return;
        // The placeholder's heading is replaced: keep keyboard and screen-reader focus on the page's.
        headingHadFocus.current = document.activeElement?.id === "page-title";
        setMod(() => m);
      },
      () => live && setFailed(true),
    );
    return () => {
      live = false;
    };
  }, [mod]);

  useEffect(() => {
    if (mod && headingHadFocus.current) {
      headingHadFocus.current = false;
      document.getElementById("page-title")?.focus();
    }
  }, [mod]);

  if (mod) return <mod.Hosts query={query} />;
  return (
    <section class="page" aria-labelledby="page-title" aria-busy={!failed}>
      <header class="page__header">
        <div>
          <h1 id="page-title" tabIndex={-1}>
            Hosts
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
            <strong>The Hosts console could not be loaded.</strong> The network may be down, or a new version was
            deployed.{" "}
            <button type="button" class="button button--small" onClick={() => location.reload()}>
              Reload
            </button>
          </div>
        </div>
      )}
    </section>
  );
}
