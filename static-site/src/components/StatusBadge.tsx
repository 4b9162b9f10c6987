import type { HostStatus } from "../api/types";

export const STATUS_TEXT: Record<HostStatus, { word: string; hint: string }> = {
  online: { word: "Online", hint: "sending samples on time" },
  stale: { word: "Stale", hint: "missed 3 or more sampling intervals" },
  offline: { word: "Offline", hint: "no sample for 30 sampling intervals" },
};

/** A host's status as a shape and a word (never colour alone): ● Online, ▲ Stale, ✕ Offline. */
export function StatusBadge({ status }: { status: HostStatus | null }) {
  if (status === null) {
    return (
      <span class="status status--unknown" data-testid="host-status">
        <span class="skeleton skeleton--short" aria-hidden="true">
          &nbsp;
        </span>
        <span class="sr-only">Status loading</span>
      </span>
    );
  }
  const t = STATUS_TEXT[status] ?? { word: status, hint: "" };
  return (
    <span class={`status status--${status}`} title={t.hint} data-testid="host-status">
      <svg class="status__icon" viewBox="0 0 12 12" aria-hidden="true" focusable="false">
        {status === "online" && <circle cx="6" cy="6" r="5" fill="currentColor" />}
        {status === "stale" && <path d="M6 1 L11.2 10.5 H0.8 Z" fill="currentColor" />}
        {status === "offline" && (
          <path d="M2 2 L10 10 M10 2 L2 10" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" />
        )}
      </svg>
      <span class="status__word">{t.word}</span>
    </span>
  );
}
