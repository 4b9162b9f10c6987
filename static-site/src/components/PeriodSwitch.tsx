import { PERIODS, type Period } from "../api/types";
import { PERIOD_LABELS } from "../lib/format";

/** A segmented control made of native radio buttons: arrow keys move between periods. */
export function PeriodSwitch({ value, onChange }: { value: Period; onChange: (p: Period) => void }) {
  return (
    <fieldset class="segmented" data-testid="period-switch">
      <legend class="sr-only">Period</legend>
      {PERIODS.map((p) => (
        <label key={p} class="segmented__option">
          <input
            type="radio"
            name="period"
            value={p}
            checked={p === value}
            onChange={() => onChange(p)}
          />
          <span aria-hidden="true">{PERIOD_LABELS[p]!.short}</span>
          <span class="sr-only">{PERIOD_LABELS[p]!.long}</span>
        </label>
      ))}
    </fieldset>
  );
}
