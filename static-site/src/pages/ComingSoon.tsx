import type { PageDef } from "../pages";

export function ComingSoon({ page }: { page: PageDef }) {
  return (
    <section class="page" aria-labelledby="page-title">
      <header class="page__header">
        <h1 id="page-title" tabIndex={-1}>
          {page.label}
        </h1>
      </header>
      <div class="panel coming-soon">
        <p class="coming-soon__badge">Coming soon</p>
        <p>{page.soon}</p>
        <p class="muted">This console is not built yet. Nothing here is live or simulated.</p>
      </div>
    </section>
  );
}

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
