import type { ApiError } from "../api/client";
import { useApp } from "../context";
import { formatDateTime, formatIso, formatTime } from "../lib/format";
import { refreshWording } from "../lib/live";

/** "14:05:09" within a day of `now`, else "Nov 20, 2026, 14:05 UTC" (team time zone). */
export function lastSeenText(ms: number, now: number, timeZone: string, locale?: string): string {
  return now - ms < 86_400_000 ? formatTime(ms, timeZone, locale) : formatDateTime(ms, timeZone, locale);
}

export function isAbort(e: unknown, signal: AbortSignal): boolean {
  return signal.aborted || (typeof e === "object" && e !== null && (e as { name?: string }).name === "AbortError");
}

/** "Live · as of 14:05:09 UTC · refreshes every 5 s" (or "· updates pushed as they happen"): every page's as-of line. */
export function LiveMeta(props: {
  at: number | null;
  offline: boolean;
  timeZone: string;
  locale: string | undefined;
  refreshMs: number;
  extra?: string;
}) {
  const { at, offline, timeZone, locale, refreshMs, extra } = props;
  const liveState = useApp().liveState;
  return (
    <p class="page__meta" data-testid="as-of">
      <span class={`live-dot${offline ? " live-dot--off" : ""}`} aria-hidden="true" />
      {at !== null ? (
        <>
          {offline ? "Offline · last data as of" : "Live · as of"}{" "}
          <time dateTime={formatIso(at, timeZone)} title={formatDateTime(at, timeZone, locale)}>
            {formatTime(at, timeZone, locale)}
          </time>{" "}
          {timeZone} · {refreshWording(liveState, refreshMs)}
          {extra ? ` · ${extra}` : ""}
        </>
      ) : (
        "Loading…"
      )}
    </p>
  );
}

/** Refusals that are not outages (the shell's banner covers those), one line each. */
export function PanelErrors({ errors }: { errors: Record<string, ApiError> }) {
  const list = Object.entries(errors).filter(([, e]) => !e.isOutage);
  if (list.length === 0) return null;
  return (
    <div class="banner banner--warning" role="alert">
      <span class="banner__icon" aria-hidden="true">
        ⚠
      </span>
      <div>
        {list.map(([key, e]) => (
          <p key={key}>
            <strong>Could not refresh {key}:</strong> {e.message} <span class="muted">({e.code})</span>
          </p>
        ))}
      </div>
    </div>
  );
}
