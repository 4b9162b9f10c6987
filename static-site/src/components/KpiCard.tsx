import type { Change } from "../lib/format";

export interface KpiCardProps {
  id: string;
  label: string;
  /** Formatted value; null while loading. */
  value: string | null;
  change: Change | null;
  /** The previous period's value, formatted. */
  previous: string | null;
  /** The values belong to another period than the one selected (a switch is in flight). */
  stale?: boolean;
}

export function KpiCard({ id, label, value, change, previous, stale }: KpiCardProps) {
  const loading = value === null;
  return (
    <article class="kpi panel" aria-labelledby={`kpi-${id}-label`} aria-busy={loading || stale} data-stale={stale ? "true" : undefined}>
      <h2 class="kpi__label" id={`kpi-${id}-label`}>
        {label}
      </h2>
      <p class="kpi__value" data-testid={`kpi-${id}`}>
        {loading ? <span class="skeleton" aria-label="Loading">&nbsp;</span> : value}
      </p>
      <p class={`kpi__change kpi__change--${change?.direction ?? "none"}`} data-testid={`kpi-${id}-change`}>
        {change ? (
          <>
            <span class="kpi__delta" aria-hidden="true">
              {change.arrow && <span class="kpi__arrow">{change.arrow} </span>}
              {change.text}
            </span>
            <span class="sr-only">
              {change.label}
              {previous && ` (${previous})`}
            </span>
            {previous && (
              <span class="kpi__previous" aria-hidden="true">
                vs {previous}
              </span>
            )}
          </>
        ) : (
          <span class="skeleton skeleton--short">&nbsp;</span>
        )}
      </p>
    </article>
  );
}
