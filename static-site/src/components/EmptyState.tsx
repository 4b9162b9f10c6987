import { useState } from "preact/hooks";

/** A fresh store: say so, and show how to send the first purchase. */
export function EmptyState({ apiOrigin, currency }: { apiOrigin: string; currency: string }) {
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
