// Roles, as the API defines them (chalicelib/auth/roles.py): each includes the ones below it.
// The UI hides or disables what the signed-in user's role may not do; the API refuses it anyway.

import { Fragment, h, type ComponentChildren, type VNode } from "preact";
import type { Role } from "../api/types";

export const ROLES: readonly Role[] = ["viewer", "operator", "admin"];

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

/** Whether `role` may do what needs `need` (no need: everyone signed in may). */
export function hasRole(role: Role | null | undefined, need: Role | null | undefined): boolean {
  if (!need) return true;
  if (!role || !(role in RANK)) return false;
  return RANK[role] >= RANK[need];
}

/** The items `role` may see: those without a `role` requirement or with one it meets. */
export function allowed<T extends { role?: Role }>(items: readonly T[], role: Role | null | undefined): T[] {
  return items.filter((i) => hasRole(role, i.role));
}

/**
 * Show `children` only to users with at least the `need` role; others get `fallback` (nothing,
 * a disabled control, or a sentence saying who may). A plain function of its props, so it is
 * testable without a DOM.
 */
export function RoleGate(props: {
  role: Role | null | undefined;
  need: Role;
  children?: ComponentChildren;
  fallback?: ComponentChildren;
}): VNode | null {
  const shown = hasRole(props.role, props.need) ? props.children : props.fallback;
  return shown === undefined || shown === null ? null : h(Fragment, null, shown);
}
