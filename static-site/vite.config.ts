import { defineConfig } from "vitest/config";

// One index.html, hash routing, relative asset URLs: the build runs from any static host
// (S3 + CloudFront, the local runner) and from any path prefix.
export default defineConfig({
  base: "./",
  oxc: {
    jsx: { runtime: "automatic", importSource: "preact" },
  },
  build: {
    outDir: "dist",
    // Flat: every asset is dist/assets/<name>-<hash>.<ext>, so the local Chalice route
    // /assets/{name} (one path segment, no greedy paths) can serve all of them.
    assetsDir: "assets",
    // Keep assets as files (no data: URIs for fonts/images beyond tiny icons) and text-only;
    // the budget script reads what index.html loads.
    assetsInlineLimit: 4096,
    target: "es2022",
    sourcemap: false,
    emptyOutDir: true,
  },
  server: {
    // `npm run dev` proxies the API and the runtime config (with its sign-in settings) to a local
    // runner (default port 8000); sign-in goes to the runner's issuer, which accepts this
    // origin's redirect URI (http://127.0.0.1:5173/ or http://localhost:5173/).
    proxy: {
      "/api": "http://127.0.0.1:8000",
      "/config.json": "http://127.0.0.1:8000",
    },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});
