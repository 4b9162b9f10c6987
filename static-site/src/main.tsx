import { render } from "preact";
import "uplot/dist/uPlot.min.css";
import "./styles.css";
import { ApiClient, loadConfig } from "./api/client";
import { App } from "./app";

async function main() {
  const config = await loadConfig();
  const api = new ApiClient({ baseUrl: config.apiBaseUrl });
  const root = document.getElementById("app")!;
  root.textContent = "";
  render(<App api={api} locale={navigator.language} />, root);
}

void main();
