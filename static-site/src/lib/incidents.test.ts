import { describe, expect, it } from "vitest";
import type { Impact, Incident } from "../api/incidents";
import { actions, age, byUrgency, describeEntry, impactHeadline, statsLine } from "./incidents";

const base: Incident = {
  id: "a", title: "t", severity: "LOW", status: "open", service: "s", source: "manual", assignee: null,
  createdAt: 0, updatedAt: 0, acknowledgedAt: null, resolvedAt: null, links: {}, version: 1,
};

describe("incident list order", () => {
  it("puts active incidents first by severity, then the rest newest first", () => {
    const list = [
      { ...base, id: "resolved-new", status: "resolved" as const, createdAt: 900 },
      { ...base, id: "low-open", severity: "LOW" as const, createdAt: 800 },
      { ...base, id: "crit-ack", severity: "CRITICAL" as const, status: "acknowledged" as const, createdAt: 100 },
      { ...base, id: "resolved-old", status: "resolved" as const, createdAt: 50 },
      { ...base, id: "high-open", severity: "HIGH" as const, createdAt: 700 },
    ];
    expect(byUrgency(list).map((i) => i.id)).toEqual(["crit-ack", "high-open", "low-open", "resolved-new", "resolved-old"]);
  });
});

describe("age", () => {
  it("reads in minutes, hours and days", () => {
    expect(age(0, 59_000)).toBe("0m");
    expect(age(0, 5 * 60_000)).toBe("5m");
    expect(age(0, 125 * 60_000)).toBe("2h 5m");
    expect(age(0, 49 * 3_600_000)).toBe("2d 1h");
  });
});

describe("actions", () => {
  it("offers exactly what the server allows this role, none for a viewer", () => {
    expect(actions([])).toEqual([]);
    expect(actions(["acknowledged", "resolved"]).map((a) => a.label)).toEqual(["Acknowledge", "Resolve"]);
    expect(actions(["open", "closed"]).map((a) => a.label)).toEqual(["Reopen", "Close"]);
  });
});

describe("timeline wording", () => {
  it("says who moved it", () => {
    expect(describeEntry({ at: 0, kind: "status", who: { subject: "u1", name: "Olga Operator" }, from: "open", to: "acknowledged" })).toBe(
      "Olga Operator changed status open → acknowledged",
    );
    expect(describeEntry({ at: 0, kind: "alarm", who: { subject: "cloudwatch", name: "CloudWatch" }, from: "ALARM", to: "OK", applied: false })).toContain(
      "not applied",
    );
  });
});

describe("impact headline", () => {
  const money = (m: number) => `$${m / 100}`;
  const impact: Impact = {
    currency: "USD", minOrders: 20, ongoing: true, hours: [], countedHours: 1, revenue: 10_000, revenueBefore: 30_000,
    orders: 10, ordersBefore: 30, revenueDelta: -20_000, revenueDeltaPercent: -66.67, enoughVolume: true,
  };
  it("states a loss against last week", () => {
    expect(impactHeadline(impact, money)).toBe("$200 below the same hours last week (-66.67%): $100 vs $300, 10 vs 30 orders so far.");
  });
  it("claims nothing for quiet hours", () => {
    expect(impactHeadline({ ...impact, enoughVolume: false }, money)).toContain("Not enough volume");
  });
});

describe("stats line", () => {
  it("gives MTTA and MTTR medians with their p90, or a dash when nothing was acknowledged", () => {
    const stats = {
      since: 0, count: 12, bySeverity: { LOW: 0, MEDIUM: 0, HIGH: 12, CRITICAL: 0 },
      byStatus: { open: 0, acknowledged: 0, investigating: 0, mitigated: 0, resolved: 12, closed: 0 },
      mttaMs: { median: 240_000, p90: 720_000, n: 12 }, mttrMs: { median: null, p90: null, n: 0 },
    };
    expect(statsLine(stats)).toBe("MTTA 4m 00s (p90 12m 00s) · MTTR — over 12 incidents in 30 days");
  });
});
