// The team time zone for pages that do not get it with their own data.
//
// The business endpoints carry `timezone` (the Overview reads it from /api/kpis); the metrics
// endpoints do not yet. Until they do, a page that opens first asks /api/kpis?period=24h once
// per app session: the Overview's own default URL, so its answer is shared through the client's
// ETag cache. A failure leaves UTC in place and is not retried until the next load.

import { useEffect } from "preact/hooks";
import type { ApiClient } from "../api/client";

let asked = false;

export function useTeamTimeZone(
  api: ApiClient,
  current: string,
  setTimeZone: (tz: string) => void,
  /** The time zone the page's own data carries, when the API sends one. */
  fromData?: string,
): void {
  useEffect(() => {
    if (fromData) {
      if (fromData !== current) setTimeZone(fromData);
      return;
    }
    if (asked) return;
    asked = true;
    api.kpis("24h").then(
      (r) => {
        if (r.data.timezone && r.data.timezone !== current) setTimeZone(r.data.timezone);
      },
      () => undefined,
    );
  }, [api, fromData]);
}
