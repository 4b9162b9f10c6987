import "./SeverityBadge.css";
import type { Severity } from "../api/alerts";
import { SEVERITY_MARK } from "../lib/alerts";

/** A severity as a shape and a word (never colour alone): ◆ CRITICAL, ▲ HIGH, ■ MEDIUM, ● LOW. */
export function SeverityBadge({ severity }: { severity: Severity }) {
  return (
    <span class={`severity severity--${severity.toLowerCase()}`} data-testid="severity">
      <span aria-hidden="true">{SEVERITY_MARK[severity] ?? "●"}</span> {severity}
    </span>
  );
}
