import { describe, expect, it } from "vitest";
import type { VNode } from "preact";
import { PAGES } from "../pages";
import { RoleGate, allowed, hasRole } from "./roles";

describe("roles", () => {
  it("each role includes the ones below it", () => {
    expect(hasRole("admin", "viewer")).toBe(true);
    expect(hasRole("admin", "operator")).toBe(true);
    expect(hasRole("operator", "viewer")).toBe(true);
    expect(hasRole("operator", "admin")).toBe(false);
    expect(hasRole("viewer", "operator")).toBe(false);
    expect(hasRole("viewer", "viewer")).toBe(true);
  });

  it("no role, or one the app does not know, opens nothing that needs one", () => {
    expect(hasRole(null, "viewer")).toBe(false);
    expect(hasRole(undefined, "viewer")).toBe(false);
    expect(hasRole("root" as never, "viewer")).toBe(false);
    expect(hasRole(null, undefined)).toBe(true);
  });

  it("offers a page only to the roles it names; Settings (each user's own) to everyone", () => {
    const pages = [...PAGES, { path: "/team", label: "Team", role: "admin" as const }];
    const labels = (role: "viewer" | "operator" | "admin") => allowed(pages, role).map((p) => p.label);
    expect(labels("viewer")).not.toContain("Team");
    expect(labels("operator")).not.toContain("Team");
    expect(labels("admin")).toContain("Team");
    expect(labels("viewer")).toEqual(expect.arrayContaining(["Overview", "Hosts", "Alerts", "CI", "Settings"]));
  });

  it("RoleGate renders its children or the fallback", () => {
    const shown = RoleGate({ role: "admin", need: "admin", children: "Delete key" }) as VNode<{ children: unknown }>;
    expect(shown.props.children).toBe("Delete key");
    expect(RoleGate({ role: "viewer", need: "admin", children: "Delete key" })).toBeNull();
    const fallback = RoleGate({ role: "viewer", need: "admin", children: "Delete key", fallback: "Ask an admin" }) as VNode<{
      children: unknown;
    }>;
    expect(fallback.props.children).toBe("Ask an admin");
  });
});
