import type { ThemePref } from "../lib/theme";

export function ThemeSelect(props: { pref: ThemePref; onChange: (p: ThemePref) => void }) {
  return (
    <label class="theme-select">
      <span class="sr-only">Theme (Auto follows the system)</span>
      <span aria-hidden="true" class="theme-select__icon">
        ◐
      </span>
      <select
        value={props.pref}
        data-testid="theme-select"
        onChange={(e) => props.onChange((e.currentTarget as HTMLSelectElement).value as ThemePref)}
      >
        <option value="system">Auto</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </label>
  );
}
