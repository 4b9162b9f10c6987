import { useState } from "preact/hooks";

/** A command to copy: the text wraps (no horizontal scroll on a phone) and a button copies it. */
export function CopyCode({ code, label = "Copy" }: { code: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(code);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      setCopied(false);
    }
  };
  return (
    <div class="code-block">
      <pre>
        <code>{code}</code>
      </pre>
      <button type="button" class="button button--small" onClick={copy} aria-live="polite">
        {copied ? "Copied" : label}
      </button>
    </div>
  );
}
