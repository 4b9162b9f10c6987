// The consoles of the app, in the navigation's order.

import type { Role } from "./api/types";

export interface PageDef {
  path: string;
  label: string;
  /** The least role that may open it (absent: every signed-in user). Others do not see it. */
  role?: Role;
}

export const PAGES: readonly PageDef[] = [
  { path: "/", label: "Overview" },
  { path: "/hosts", label: "Hosts" },
  { path: "/insights", label: "Insights" },
  { path: "/alerts", label: "Alerts" },
  { path: "/incidents", label: "Incidents" },
  { path: "/ci", label: "CI" },
  // Each user's own settings (repositories, theme, refresh, notifications): everyone signed in.
  { path: "/settings", label: "Settings" },
];
