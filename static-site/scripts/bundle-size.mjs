#!/usr/bin/env node
// Initial-load budget: the gzipped bytes of the JS and CSS that dist/index.html loads
// (its module scripts, stylesheets and modulepreloads). Run after `npm run build`.
//
//   node scripts/bundle-size.mjs [dist-dir]        (npm run size)
//
// Exits 1 when the total is over the budget (150 KiB, or BUNDLE_BUDGET_BYTES), 2 when the
// build is missing.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { constants, gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(process.argv[2] ?? join(here, "..", "dist"));
const budget = Number(process.env.BUNDLE_BUDGET_BYTES ?? 150 * 1024);
const indexPath = join(dist, "index.html");

if (!existsSync(indexPath)) {
  console.error(`bundle-size: ${indexPath} not found; run \`npm run build\` first.`);
  process.exit(2);
}

const html = readFileSync(indexPath, "utf8");
const refs = new Set();
for (const tag of html.match(/<(script|link)\b[^>]*>/gi) ?? []) {
  const attr = (name) => tag.match(new RegExp(`\\b${name}\\s*=\\s*["']([^"']+)["']`, "i"))?.[1];
  if (/^<script/i.test(tag)) {
    const src = attr("src");
    if (src) refs.add(src);
  } else {
    const rel = (attr("rel") ?? "").toLowerCase();
    const href = attr("href");
    if (href && (rel === "stylesheet" || rel === "modulepreload")) refs.add(href);
  }
}

const rows = [];
for (const ref of refs) {
  if (/^(https?:)?\/\//i.test(ref)) {
    console.error(`bundle-size: ${ref} is loaded from another host; it cannot be measured here.`);
    process.exit(1);
  }
  const file = join(dist, ref.replace(/^\.?\//, "").split(/[?#]/)[0]);
  if (!existsSync(file)) {
    console.error(`bundle-size: index.html loads ${ref} but ${file} does not exist.`);
    process.exit(1);
  }
  const raw = readFileSync(file);
  const gz = gzipSync(raw, { level: constants.Z_BEST_COMPRESSION }).length;
  rows.push({ file: relative(dist, file), raw: raw.length, gz });
}

const total = rows.reduce((s, r) => s + r.gz, 0);
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
for (const r of rows) console.log(`${r.file.padEnd(40)} ${String(r.raw).padStart(9)} B  gzip ${String(r.gz).padStart(8)} B`);
console.log(`initial JS+CSS gzipped: ${total} bytes (${kib(total)}) of a ${budget}-byte (${kib(budget)}) budget`);
if (rows.length === 0) {
  console.error("bundle-size: index.html loads no JS or CSS; is this the right build?");
  process.exit(1);
}
if (total > budget) {
  console.error(`bundle-size: over budget by ${total - budget} bytes`);
  process.exit(1);
}
