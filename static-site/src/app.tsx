import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import type { ApiClient } from "./api/client";
import type { Me } from "./api/types";
import { allowed, hasRole } from "./auth/roles";
import { BrandMark } from "./components/BrandMark";
import { ConnectionBanner } from "./components/ConnectionBanner";
import { ThemeSelect } from "./components/ThemeSelect";
import { UserBadge } from "./components/UserBadge";
import { Ctx, type AppContext } from "./context";
import type { LiveFeed } from "./lib/live";
import { useRoute } from "./lib/router";
import { useLiveState } from "./lib/useLive";
import { useTheme } from "./lib/theme";
import { PAGES } from "./pages";
import { FiringCount } from "./components/AlertsPanel";
import { Alerts } from "./pages/Alerts";
import { Forbidden, NotFound } from "./pages/Unavailable";
import { HostsRoute, prefetchHosts } from "./pages/HostsRoute";
import { Incidents } from "./pages/Incidents";
import { Insights } from "./pages/Insights";
import { Overview } from "./pages/Overview";
import { CI } from "./pages/CI";
import { Settings } from "./pages/Settings";
import { SettingsCtx, UserSettingsStore } from "./lib/userSettings";

export const REFRESH_MS = 5000;
/** While notices are pushed, pages poll only this often (a safety net for a missed notice). */
export const SAFETY_POLL_MS = 60_000;

export function App({ api, live = null, locale, user, onSignOut }: { api: ApiClient; live?: LiveFeed | null; locale?: string; user: Me; onSignOut: () => void }) {
  const route = useRoute();
  const { pref, theme, setPref } = useTheme();
  const [timeZone, setTimeZone] = useState("UTC");
  const [menuOpen, setMenuOpen] = useState(false);
  const firstRoute = useRef(true);

  const liveState = useLiveState(live);
  // A change of interval rebuilds the pages' pollers, which fetch at once: on (re)connect the
  // page refetches everything it may have missed, on disconnect polling resumes right away.
  const refreshMs = liveState === "live" ? SAFETY_POLL_MS : REFRESH_MS;
  const ctx = useMemo<AppContext>(
    () => ({ api, user, locale, timeZone, setTimeZone, theme, refreshMs, live, liveState }),
    [api, user, locale, timeZone, theme, refreshMs, live, liveState],
  );

  // The user's settings: the shell's theme toggle and the Settings page's theme are one setting.
  const settingsStore = useMemo(() => new UserSettingsStore(api), [api]);
  useEffect(() => {
    const off = settingsStore.subscribe((s) => setPref(s.theme));
    settingsStore.load().catch(() => undefined); // the local choice stays until the API answers
    return off;
  }, [settingsStore]);
  const changeTheme = (p: typeof pref) => {
    setPref(p);
    settingsStore.update({ theme: p }).catch(() => undefined);
  };

  const page = PAGES.find((p) => p.path === route.path);
  // The consoles this user's role opens; the others are not offered at all.
  const nav = allowed(PAGES, user.role);

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
  else if (!hasRole(user.role, page.role)) content = <Forbidden page={page} user={user} />;
  else if (page.path === "/hosts") content = <HostsRoute query={route.query} />;
  else if (page.path === "/insights") content = <Insights query={route.query} />;
  else if (page.path === "/alerts") content = <Alerts query={route.query} />;
  else if (page.path === "/incidents") content = <Incidents query={route.query} />;
  else if (page.path === "/ci") content = <CI query={route.query} />;
  else if (page.path === "/settings") content = <Settings />;
  else content = <Overview query={route.query} />;

  // The other consoles' code comes after the first page is up, while the user reads it.
  useEffect(() => prefetchHosts(), []);

  return (
    <Ctx.Provider value={ctx}>
      <SettingsCtx.Provider value={settingsStore}>
      <a class="skip-link" href="#main" onClick={skipToMain}>
        Skip to content
      </a>
      <div class="shell" data-menu-open={menuOpen ? "true" : "false"}>
        <header class="topbar">
          <a class="brand" href="#/">
            <BrandMark />
            <span class="brand__name">Mission Control</span>
          </a>
          <UserBadge user={user} onSignOut={onSignOut} />
          {live && (
            <span
              class={`live-indicator live-indicator--${liveState}`}
              data-testid="live-indicator"
              data-state={liveState}
              title={liveState === "live" ? "Changes are pushed as they happen" : "Not connected for live updates: refreshing every few seconds"}
            >
              {liveState}
            </span>
          )}
          <div class="topbar__tools">
            <ThemeSelect pref={pref} onChange={changeTheme} />
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
            {nav.map((p) => (
              <li key={p.path}>
                <a href={`#${p.path}`} aria-current={p === page ? "page" : undefined}>
                  <span>{p.label}</span>
                  {p.path === "/alerts" && <FiringCount />}
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
      </SettingsCtx.Provider>
    </Ctx.Provider>
  );
}
