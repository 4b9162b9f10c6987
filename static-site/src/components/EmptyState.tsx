import { useState } from "preact/hooks";
import { RoleGate } from "../auth/roles";
import { useApp } from "../context";

/** A fresh store: say so, and show how to send the first purchase. */
export function EmptyState({ apiOrigin, currency }: { apiOrigin: string; currency: string }) {
  const { user } = useApp();
  const [copied, setCopied] = useState(false);
  const body = {
    orderId: "o-1",
    productId: "p-1",
    productName: "Pro plan",
    amount: 1999,
    currency,
    userId: "u-1",
    sessionId: "s-1",
    timestamp: Date.now(),
  };
  const command =
    `curl -X POST ${apiOrigin}/api/ingest/purchase \\\n` +
    `  -H 'Content-Type: application/json' \\\n` +
    `  -H "x-api-key: $MISSION_CONTROL_API_KEY" \\\n` +
    `  -d '${JSON.stringify(body)}'`;

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(command);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      setCopied(false);
    }
  };

  return (
    <section class="panel empty" aria-labelledby="empty-title" data-testid="empty-state">
      <h2 id="empty-title">No purchases yet</h2>
      <p>
        This store has no purchases. Send one to <code>POST /api/ingest/purchase</code> and it shows up here within 5
        seconds. <code>amount</code> is in minor units (1999 is 19.99), <code>timestamp</code> in epoch milliseconds; an
        array of purchases is accepted too.
      </p>
      <p>
        Ingest takes an API key with the <code>ingest:business</code> scope, not your sign-in.{" "}
        <RoleGate
          role={user.role}
          need="admin"
          fallback={<span data-testid="ask-admin-for-key">Ask an admin for one.</span>}
        >
          <span data-testid="make-a-key">
            Make one with <code>.venv/bin/missionctl apikey create --scope ingest:business</code> and put it in{" "}
            <code>MISSION_CONTROL_API_KEY</code>.
          </span>
        </RoleGate>
      </p>
      <div class="code-block">
        <pre>
          <code>{command}</code>
        </pre>
        <button type="button" class="button button--small" onClick={copy}>
          {copied ? "Copied" : "Copy"}
        </button>
      </div>
    </section>
  );
}
