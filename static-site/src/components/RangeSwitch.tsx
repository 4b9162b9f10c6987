import { RANGES, type RangeId } from "../lib/metricSeries";

/** The chart range as native radio buttons (arrow keys move between them), like the period switch. */
export function RangeSwitch({ value, onChange }: { value: RangeId; onChange: (r: RangeId) => void }) {
  return (
    <fieldset class="segmented segmented--wrap" data-testid="range-switch">
      <legend class="sr-only">Time range</legend>
      {RANGES.map((r) => (
        <label key={r.id} class="segmented__option">
          <input type="radio" name="range" value={r.id} checked={r.id === value} onChange={() => onChange(r.id)} />
          <span aria-hidden="true">{r.short}</span>
          <span class="sr-only">{r.long}</span>
        </label>
      ))}
    </fieldset>
  );
}
