import { describe, expect, it } from "vitest";
import type { Alert, Rule } from "../api/alerts";
import { byUrgency, describeRule, editableRule, refusalLines, silenceMatchers, since, where } from "./alerts";

function alert(id: string, state: Alert["state"], severity: Alert["severity"], startsAt: number): Alert {
  return {
    id, ruleId: "r1", name: "CPU hot", labels: { host: "web-1", metric: "cpu.percent" }, state, severity,
    type: "error", category: "system", message: "", value: 95, startsAt, endsAt: null, acknowledged: false,
    ack: null, silencedBy: [],
  };
}

describe("the alerts console", () => {
  it("puts firing first, then pending, the most severe and newest first", () => {
    const ordered = byUrgency([
      alert("old-low", "firing", "LOW", 1), alert("pending", "pending", "CRITICAL", 9),
      alert("resolved", "resolved", "CRITICAL", 10), alert("new-high", "firing", "HIGH", 5),
      alert("old-high", "firing", "HIGH", 2),
    ]);
    expect(ordered.map((a) => a.id)).toEqual(["new-high", "old-high", "old-low", "pending", "resolved"]);
  });

  it("says where an alert is and how long ago it started", () => {
    expect(where({ host: "web-1", metric: "cpu.percent" })).toBe("web-1 · cpu.percent");
    expect(where({ kpi: "revenue" })).toBe("revenue");
    expect(since(0, 30_000)).toBe("just now");
    expect(since(0, 5 * 60_000)).toBe("5 min");
    expect(since(0, 130 * 60_000)).toBe("2 h 10 min");
    expect(since(0, 3 * 86_400_000)).toBe("3 d");
  });

  it("silences exactly one alert's series", () => {
    expect(silenceMatchers(alert("a", "firing", "HIGH", 1))).toEqual([
      { name: "ruleId", value: "r1", op: "=" },
      { name: "host", value: "web-1", op: "=" },
      { name: "metric", value: "cpu.percent", op: "=" },
    ]);
  });

  it("describes rules in one line and edits only what a PUT takes", () => {
    const rule = {
      id: "r1", name: "CPU hot", kind: "threshold", source: "metric", host: "*", metric: "cpu.percent",
      op: ">", value: 90, for: "5m", severity: "HIGH", category: "system", enabled: true, createdAt: 1,
      updatedAt: 2, createdBy: "x",
    } as unknown as Rule;
    expect(describeRule(rule)).toBe("cpu.percent > 90 on every host for 5m");
    expect(Object.keys(editableRule(rule))).not.toContain("id");
    expect(editableRule(rule)).toMatchObject({ name: "CPU hot", for: "5m" });
  });

  it("shows the API's refusals field by field", () => {
    expect(refusalLines([{ field: "for", message: "must be from 0s to 24h" }, "junk"])).toEqual([
      "for: must be from 0s to 24h",
    ]);
  });
});
