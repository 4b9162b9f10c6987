import { createContext } from "preact";
import { useContext, useEffect, useState } from "preact/hooks";
import type { ApiClient, Connection } from "./api/client";
import type { Me } from "./api/types";
import type { LiveFeed, LiveState } from "./lib/live";
import type { Theme } from "./lib/theme";

export interface AppContext {
  api: ApiClient;
  /** The signed-in user (GET /api/me); `user.role` decides what the UI offers. */
  user: Me;
  /** The browser's locale for numbers and dates; the time zone is the team's, not the viewer's. */
  locale: string | undefined;
  /** The team time zone, as last reported by the API (UTC until then). */
  timeZone: string;
  setTimeZone: (tz: string) => void;
  theme: Theme;
  /** The live refresh interval: the polling one, or a slow safety poll while pushes arrive. */
  refreshMs: number;
  /** Pushed change notices (null: this deployment names no websocketUrl; pages poll). */
  live: LiveFeed | null;
  liveState: LiveState;
}

export const Ctx = createContext<AppContext | null>(null);

export function useApp(): AppContext {
  const ctx = useContext(Ctx);
  if (!ctx) throw new Error("useApp outside <Ctx.Provider>");
  return ctx;
}

export function useConnection(api: ApiClient): Connection {
  const [conn, setConn] = useState(api.connection);
  useEffect(() => {
    setConn(api.connection);
    return api.onConnection(setConn);
  }, [api]);
  return conn;
}
