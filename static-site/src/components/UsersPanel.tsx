import type { Users } from "../api/types";
import { formatCount, formatDuration, formatFraction } from "../lib/format";

function Stat({ id, label, value, hint }: { id: string; label: string; value: string | null; hint: string }) {
  return (
    <div class="stat">
      <dt class="stat__label">
        {label} <span class="stat__hint">{hint}</span>
      </dt>
      <dd class="stat__value" data-testid={`users-${id}`}>
        {value ?? <span class="skeleton">&nbsp;</span>}
      </dd>
    </div>
  );
}

export function UsersPanel({ users, locale }: { users: Users | null; locale: string | undefined }) {
  const adoption = users ? [...users.featureAdoption].sort((a, b) => b.share - a.share) : null;
  return (
    <section class="panel users" aria-labelledby="users-title" aria-busy={users === null}>
      <h2 id="users-title" class="panel__title">
        Users
      </h2>
      <dl class="stats">
        <Stat id="dau" label="Daily active" hint="today" value={users && formatCount(users.dau, locale)} />
        <Stat id="mau" label="Monthly active" hint="30 days" value={users && formatCount(users.mau, locale)} />
        <Stat id="sessions" label="Sessions" hint="today" value={users && formatCount(users.sessions, locale)} />
        <Stat
          id="duration"
          label="Avg. session"
          hint="today"
          value={users && formatDuration(users.avgSessionDurationMs)}
        />
      </dl>
      <h3 class="panel__subtitle">Feature adoption <span class="muted">(share of monthly active users)</span></h3>
      {adoption === null ? (
        <p class="skeleton skeleton--block">&nbsp;</p>
      ) : adoption.length === 0 ? (
        <p class="muted">No feature usage recorded in the last 30 days.</p>
      ) : (
        <ul class="bars" data-testid="feature-adoption">
          {adoption.map((f) => {
            const pct = Math.max(0, Math.min(1, f.share));
            return (
              <li key={f.feature} class="bar">
                <span class="bar__label">{f.feature}</span>
                <span class="bar__value">
                  {formatFraction(f.share, locale)}
                  <span class="muted"> · {formatCount(f.users, locale)} users</span>
                </span>
                <span class="bar__track" aria-hidden="true">
                  <span class="bar__fill" style={{ transform: `scaleX(${pct})` }} />
                </span>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
