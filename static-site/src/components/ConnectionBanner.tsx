import { useEffect, useRef, useState } from "preact/hooks";
import { formatTime } from "../lib/format";
import { useApp, useConnection } from "../context";

/** One banner for the whole app while the API is unreachable; it goes away on its own. */
export function ConnectionBanner() {
  const { api, timeZone, locale, refreshMs } = useApp();
  const conn = useConnection(api);
  const [announce, setAnnounce] = useState("");
  const wasDown = useRef(false);

  useEffect(() => {
    if (conn.state === "down") wasDown.current = true;
    else if (conn.state === "ok" && wasDown.current) {
      wasDown.current = false;
      setAnnounce("Connection to the API restored. Data is live again.");
    }
  }, [conn.state]);

  return (
    <>
      {conn.state === "down" && (
        <div class="banner banner--error" role="alert" data-testid="api-down-banner">
          <span class="banner__icon" aria-hidden="true">
            ⚠
          </span>
          <div>
            <strong>The API is not reachable.</strong>{" "}
            {conn.error && conn.error.kind !== "network" && `${conn.error.message} `}
            {conn.lastOkAt !== null
              ? `Showing the data received at ${formatTime(conn.lastOkAt, timeZone, locale)} (${timeZone}).`
              : "No data has been received yet."}{" "}
            Retrying every {Math.round(refreshMs / 1000)} s.
          </div>
        </div>
      )}
      <div class="sr-only" role="status" aria-live="polite">
        {announce}
      </div>
    </>
  );
}
