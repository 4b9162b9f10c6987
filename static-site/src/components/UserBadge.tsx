import type { Me } from "../api/types";

/** Who is signed in, with their role, and the way out. */
export function UserBadge({ user, onSignOut }: { user: Me; onSignOut: () => void }) {
  const name = user.name || user.email || user.sub;
  return (
    <div class="user">
      <p class="user__who" data-testid="signed-in-user" title={user.email ?? undefined}>
        <span class="sr-only">Signed in as </span>
        <span class="user__name" data-testid="user-name">
          {name}
        </span>
        <span class="sr-only">, role </span>
        <span class="role-badge" data-testid="user-role" data-role={user.role ?? "none"}>
          {user.role ?? "no role"}
        </span>
      </p>
      <button type="button" class="button button--small" onClick={onSignOut}>
        Sign out
      </button>
    </div>
  );
}
