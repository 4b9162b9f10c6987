import { render } from "preact";
import "uplot/dist/uPlot.min.css";
import "./styles.css";
import { ApiClient, loadConfig } from "./api/client";
import { Session } from "./auth/session";
import { LiveFeed } from "./lib/live";
import { Root } from "./root";

async function main() {
  const config = await loadConfig();
  const fetchImpl = (input: string, init?: RequestInit) => globalThis.fetch(input, init);
  const session = new Session(config.auth, {
    fetch: fetchImpl,
    storage: sessionStorage,
    browser: {
      href: () => location.href,
      assign: (url) => location.assign(url),
      replace: (url) => history.replaceState(null, "", url),
    },
  });
  const api = new ApiClient({
    baseUrl: config.apiBaseUrl,
    authorization: session.authorization,
    onUnauthorized: session.unauthorized,
  });
  const live = config.websocketUrl ? new LiveFeed({ url: config.websocketUrl, authorization: session.authorization }) : null;
  // Timers sleep in background tabs: renew on return if the time has come.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") session.tokens.checkNow();
  });
  window.addEventListener("pageshow", (e) => {
    if (e.persisted) session.returnedWithoutAnswer();
  });
  const root = document.getElementById("app")!;
  root.textContent = "";
  render(<Root session={session} api={api} live={live} locale={navigator.language} />, root);
  await session.start();
}

void main();
