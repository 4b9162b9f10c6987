// The Hosts console, loaded on demand (app.tsx imports it dynamically): the host list at
// #/hosts, one host's charts at #/hosts?host=<name>&kind=<vm|webapp>&range=<15m…30d>.

import "./Hosts.css";
import { useEffect, useRef } from "preact/hooks";
import type { HostKind } from "../api/types";
import { DEFAULT_RANGE, rangeById } from "../lib/metricSeries";
import { HostsList } from "./HostsList";
import { HostsView } from "./HostsView";

export function Hosts({ query }: { query: URLSearchParams }) {
  const host = query.get("host");
  const k = query.get("kind");
  const kind: HostKind | null = k === "vm" || k === "webapp" ? k : null;
  const range = rangeById(query.get("range"))?.id ?? DEFAULT_RANGE;

  // List ⇄ host is a new page inside one route: the shell does not see it, so move focus to
  // the new heading here (the link that had it is gone), as the shell does between consoles.
  const shown = `${kind}:${host}`;
  const first = useRef(true);
  useEffect(() => {
    if (first.current) first.current = false;
    else document.getElementById("page-title")?.focus();
  }, [shown]);

  if (!host) return <HostsList />;
  // Keyed: another host starts from a clean slate (its own loader, no lines of the previous one).
  return <HostsView key={shown} host={host} kind={kind} rangeId={range} />;
}
