import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import type { ApiClient } from "./api/client";
import { ConnectionBanner } from "./components/ConnectionBanner";
import { ThemeSelect } from "./components/ThemeSelect";
import { Ctx, type AppContext } from "./context";
import { useRoute } from "./lib/router";
import { useTheme } from "./lib/theme";
import { PAGES } from "./pages";
import { ComingSoon, NotFound } from "./pages/ComingSoon";
import { HostsRoute, prefetchHosts } from "./pages/HostsRoute";
import { Overview } from "./pages/Overview";

export const REFRESH_MS = 5000;

export function App({ api, locale }: { api: ApiClient; locale?: string }) {
  const route = useRoute();
  const { pref, theme, setPref } = useTheme();
  const [timeZone, setTimeZone] = useState("UTC");
  const [menuOpen, setMenuOpen] = useState(false);
  const firstRoute = useRef(true);

  const ctx = useMemo<AppContext>(
    () => ({ api, locale, timeZone, setTimeZone, theme, refreshMs: REFRESH_MS }),
    [api, locale, timeZone, theme],
  );

  const page = PAGES.find((p) => p.path === route.path);

  // A layout effect: it runs before the pages' effects, so a page can refine the title.
  useLayoutEffect(() => {
    document.title = `${page ? page.label : "Not found"} · Mission Control`;
  }, [route.path]);

  useEffect(() => {
    setMenuOpen(false);
    // Move focus to the new page's heading, so keyboard and screen-reader users land on it.
    if (firstRoute.current) firstRoute.current = false;
    else document.querySelector<HTMLElement>("main h1")?.focus();
  }, [route.path]);

  const skipToMain = (e: Event) => {
    e.preventDefault(); // "#main" would be taken for a route
    document.getElementById("main")?.focus();
  };

  let content;
  if (!page) content = <NotFound path={route.path} />;
  else if (page.soon) content = <ComingSoon page={page} />;
  else if (page.path === "/hosts") content = <HostsRoute query={route.query} />;
  else content = <Overview query={route.query} />;

  // The other consoles' code comes after the first page is up, while the user reads it.
  useEffect(() => prefetchHosts(), []);

  return (
    <Ctx.Provider value={ctx}>
      <a class="skip-link" href="#main" onClick={skipToMain}>
        Skip to content
      </a>
      <div class="shell" data-menu-open={menuOpen ? "true" : "false"}>
        <header class="topbar">
          <a class="brand" href="#/">
            <svg class="brand__mark" viewBox="0 0 32 32" aria-hidden="true">
              <circle cx="16" cy="16" r="13" fill="none" stroke="currentColor" stroke-width="3" />
              <path d="M16 16 L25 9" stroke="currentColor" stroke-width="3" stroke-linecap="round" />
              <circle cx="16" cy="16" r="3" fill="currentColor" />
            </svg>
            <span class="brand__name">Mission Control</span>
          </a>
          <div class="topbar__tools">
            <ThemeSelect pref={pref} onChange={setPref} />
            <button
              type="button"
              class="menu-button"
              aria-expanded={menuOpen}
              aria-controls="nav"
              onClick={() => setMenuOpen(!menuOpen)}
            >
              <span aria-hidden="true">☰</span>
              <span class="menu-button__text">Menu</span>
            </button>
          </div>
        </header>
        <nav id="nav" class="nav" aria-label="Consoles">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <a href={`#${p.path}`} aria-current={p === page ? "page" : undefined}>
                  <span>{p.label}</span>
                  {p.soon && <span class="nav__soon">soon</span>}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" tabIndex={-1}>
          <ConnectionBanner />
          {content}
        </main>
      </div>
    </Ctx.Provider>
  );
}
