// Formatting of host and web-app metric values (units from docs/metrics.md). Pure functions;
// the locale is an explicit argument, like lib/format.ts.

import { nf } from "./format";

const DASH = "–";

function finite(v: number | null | undefined): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** Three significant digits at most, never an exponent: 0.5 → "0.5", 12.34 → "12.3", 123.4 → "123". */
function sig3(v: number, locale?: string): string {
  const abs = Math.abs(v);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return nf(locale, { maximumFractionDigits: digits }).format(v);
}

/**
 * A percentage on the 0–100 scale the agent sends (cpu.percent 12.5 → "12.5%"). One decimal,
 * two below 1 % so a quiet machine does not read "0.0%".
 */
export function formatPercent(value: number | null | undefined, locale?: string): string {
  if (!finite(value)) return DASH;
  const abs = Math.abs(value);
  const digits = abs !== 0 && abs < 1 ? 2 : abs >= 100 ? 0 : 1;
  return nf(locale, { style: "percent", minimumFractionDigits: 0, maximumFractionDigits: digits }).format(value / 100);
}

const BYTE_UNITS = ["B", "kB", "MB", "GB", "TB", "PB"];

/** Bytes in decimal (SI) units, as network and disk rates are quoted: 1536 → "1.54 kB". */
export function formatBytes(value: number | null | undefined, locale?: string): string {
  if (!finite(value)) return DASH;
  let v = value;
  let i = 0;
  while (Math.abs(v) >= 999.5 && i < BYTE_UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? nf(locale, { maximumFractionDigits: 0 }).format(v) : sig3(v, locale)} ${BYTE_UNITS[i]}`;
}

/** disk.read_bytes_per_s, net.rx_bytes_per_s: 20480 → "20.5 kB/s". */
export function formatBytesPerSecond(value: number | null | undefined, locale?: string): string {
  return finite(value) ? `${formatBytes(value, locale)}/s` : DASH;
}

/** http.response_time_ms: 84.2 → "84 ms", 1234 → "1.23 s", 0.4 → "0.4 ms". */
export function formatMs(value: number | null | undefined, locale?: string): string {
  if (!finite(value)) return DASH;
  if (Math.abs(value) >= 1000) return `${sig3(value / 1000, locale)} s`;
  if (Math.abs(value) >= 10) return `${nf(locale, { maximumFractionDigits: 0 }).format(value)} ms`;
  return `${nf(locale, { maximumFractionDigits: 1 }).format(value)} ms`;
}

/** A rate with its unit: 3.21, "req/s" → "3.21 req/s"; 12500 → "12.5K req/s". */
export function formatRate(value: number | null | undefined, unit: string, locale?: string): string {
  if (!finite(value)) return DASH;
  const n =
    Math.abs(value) >= 10_000
      ? nf(locale, { notation: "compact", maximumFractionDigits: 1 }).format(value)
      : sig3(value, locale);
  return `${n} ${unit}`;
}

/** A plain number (load average, active users): up to 3 significant digits, compact when large. */
export function formatNumber(value: number | null | undefined, locale?: string): string {
  if (!finite(value)) return DASH;
  if (Math.abs(value) >= 10_000) return nf(locale, { notation: "compact", maximumFractionDigits: 1 }).format(value);
  return Number.isInteger(value) ? nf(locale, {}).format(value) : sig3(value, locale);
}

/** system.uptime_s: 93784 → "1d 2h", 7260 → "2h 1m", 59 → "59s". */
export function formatUptime(seconds: number | null | undefined): string {
  if (!finite(seconds) || seconds < 0) return DASH;
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

/** http.status: 200 → "200", 0 → "No response" (the agent's value when nothing answered). */
export function formatHttpStatus(value: number | null | undefined): string {
  if (!finite(value)) return DASH;
  return value === 0 ? "No response" : String(Math.round(value));
}

/** A sampling interval or step: 10000 → "10 s", 120000 → "2 min", 3600000 → "1 h", 90000 → "90 s". */
export function formatInterval(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return DASH;
  const s = Math.round(ms / 1000);
  if (s >= 3600 && s % 3600 === 0) return `${s / 3600} h`;
  if (s >= 60 && s % 60 === 0) return `${s / 60} min`;
  return `${s} s`;
}

export type UnitKind = "percent" | "bytesPerSecond" | "ms" | "perSecond" | "number";

/** One formatter per unit, for chart axes, legends and summaries. */
export function formatterFor(unit: UnitKind, locale?: string, rateUnit = "/s"): (v: number | null | undefined) => string {
  switch (unit) {
    case "percent":
      return (v) => formatPercent(v, locale);
    case "bytesPerSecond":
      return (v) => formatBytesPerSecond(v, locale);
    case "ms":
      return (v) => formatMs(v, locale);
    case "perSecond":
      return (v) => formatRate(v, rateUnit, locale);
    default:
      return (v) => formatNumber(v, locale);
  }
}
