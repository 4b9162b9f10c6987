// The pages shown instead of a console: no such page, or one the user's role does not open.

import type { Me } from "../api/types";
import type { PageDef } from "../pages";

export function NotFound({ path }: { path: string }) {
  return (
    <section class="page" aria-labelledby="page-title">
      <header class="page__header">
        <h1 id="page-title" tabIndex={-1}>
          Page not found
        </h1>
      </header>
      <div class="panel">
        <p>
          There is no page at <code>{path}</code>. <a href="#/">Go to the Overview</a>.
        </p>
      </div>
    </section>
  );
}

/** A console the user's role does not open (they followed a link or typed the URL). */
export function Forbidden({ page, user }: { page: PageDef; user: Me }) {
  return (
    <section class="page" aria-labelledby="page-title">
      <header class="page__header">
        <h1 id="page-title" tabIndex={-1}>
          {page.label}
        </h1>
      </header>
      <div class="panel" data-testid="forbidden">
        <p>
          {page.label} is for the <strong>{page.role}</strong> role; you are signed in as{" "}
          <strong>{user.role ?? "a user without a role"}</strong>. Ask an admin if you need it.{" "}
          <a href="#/">Go to the Overview</a>.
        </p>
      </div>
    </section>
  );
}
