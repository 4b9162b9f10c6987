// Hash routing: every page is index.html#/<page>?<query>, so any static host serves the whole
// SPA from one file and no server needs rewrite rules.

import { useEffect, useState } from "preact/hooks";

export interface Route {
  /** "/" or "/hosts", always with a leading slash and without a trailing one. */
  path: string;
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  let h = hash.startsWith("#") ? hash.slice(1) : hash;
  if (!h.startsWith("/")) h = `/${h}`;
  const q = h.indexOf("?");
  const rawPath = q >= 0 ? h.slice(0, q) : h;
  const query = new URLSearchParams(q >= 0 ? h.slice(q + 1) : "");
  let path = rawPath.replace(/\/+$/, "") || "/";
  try {
    path = decodeURIComponent(path);
  } catch {
    // keep it as it came
  }
  return { path, query };
}

export function buildHash(path: string, query?: URLSearchParams | Record<string, string>): string {
  const q = query instanceof URLSearchParams ? query : new URLSearchParams(query);
  const s = q.toString();
  return `#${path}${s ? `?${s}` : ""}`;
}

const ROUTE_EVENT = "mc:route";

/** Change the route. `replace` keeps the history clean for filters like the period switch. */
export function navigate(hash: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) {
    history.replaceState(history.state, "", hash);
    window.dispatchEvent(new Event(ROUTE_EVENT));
  } else {
    location.hash = hash;
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseHash(location.hash));
    window.addEventListener("hashchange", update);
    window.addEventListener(ROUTE_EVENT, update);
    return () => {
      window.removeEventListener("hashchange", update);
      window.removeEventListener(ROUTE_EVENT, update);
    };
  }, []);
  return route;
}
