// Formatting for the whole SPA. Pure functions: locale and time zone are explicit arguments
// (the UI passes the browser's locale and the team time zone from the API).

const nfCache = new Map<string, Intl.NumberFormat>();

/** A cached Intl.NumberFormat: building one is far slower than using it. */
export function nf(locale: string | undefined, opts: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${locale ?? ""}|${JSON.stringify(opts)}`;
  let f = nfCache.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, opts);
    nfCache.set(key, f);
  }
  return f;
}

/** Number of minor-unit digits of an ISO 4217 currency (USD 2, JPY 0, KWD 3). */
export function currencyDigits(currency: string): number {
  try {
    return nf("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** Integer minor units → major units, exactly for any safe integer amount. */
export function minorToMajor(minor: number, currency: string): number {
  return minor / 10 ** currencyDigits(currency);
}

/** 123450, "USD" → "$1,234.50". Unknown currency codes fall back to "1,234.50 XYZ". */
export function formatMoney(minor: number, currency: string, locale?: string): string {
  const digits = currencyDigits(currency);
  const major = minor / 10 ** digits;
  try {
    return nf(locale, {
      style: "currency",
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(major);
  } catch {
    return `${nf(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(major)} ${currency}`;
  }
}

/** Short money for chart axes: "$1.2K", "$3M". */
export function formatMoneyCompact(minor: number, currency: string, locale?: string): string {
  const major = minorToMajor(minor, currency);
  try {
    return nf(locale, { style: "currency", currency, notation: "compact", minimumFractionDigits: 0, maximumFractionDigits: 1 }).format(major);
  } catch {
    return `${nf(locale, { notation: "compact", maximumFractionDigits: 1 }).format(major)} ${currency}`;
  }
}

export function formatCount(n: number, locale?: string): string {
  return nf(locale, { maximumFractionDigits: 0 }).format(n);
}

/** A fraction 0..1 as a percentage: 0.0345 → "3.45%" (digits adapt to small values). */
export function formatFraction(fraction: number, locale?: string): string {
  const pct = fraction * 100;
  const digits = pct !== 0 && Math.abs(pct) < 10 ? 2 : 1;
  return nf(locale, { style: "percent", minimumFractionDigits: digits, maximumFractionDigits: digits }).format(fraction);
}

export type Direction = "up" | "down" | "flat" | "none";

export interface Change {
  direction: Direction;
  /** "▲", "▼", "▶", or "" when there is nothing to compare: a shape, so colour is never the only carrier of meaning. */
  arrow: string;
  /** "+23.5%", "−12.0%", "0.0%", or "n/a" when there is nothing to compare with. */
  text: string;
  /** For screen readers: "up 23.5% from the previous period". */
  label: string;
}

/**
 * Percent change with sign and arrow. `change` is a percentage (23.45 means +23.45 %), null when
 * the previous period had nothing to compare with.
 */
export function formatChange(change: number | null, locale?: string, against = "the previous period"): Change {
  if (change === null || !Number.isFinite(change)) {
    return { direction: "none", arrow: "", text: "n/a", label: `no comparison: nothing in ${against}` };
  }
  const f = nf(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const abs = f.format(Math.abs(change));
  // Changes that round to 0.0 are flat: "+0.0%" with an up arrow would be a lie.
  if (abs === f.format(0)) {
    return { direction: "flat", arrow: "▶", text: `${abs}%`, label: `unchanged from ${against}` };
  }
  if (change > 0) {
    return { direction: "up", arrow: "▲", text: `+${abs}%`, label: `up ${abs}% from ${against}` };
  }
  return { direction: "down", arrow: "▼", text: `\u2212${abs}%`, label: `down ${abs}% from ${against}` };
}

/** 183000 → "3m 03s"; 45000 → "45s"; 3723000 → "1h 02m"; 0 → "0s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "–";
  const totalSeconds = Math.round(ms / 1000);
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  if (h > 0) return `${h}h ${pad(m)}m`;
  if (m > 0) return `${m}m ${pad(s)}s`;
  return `${s}s`;
}

const dtfCache = new Map<string, Intl.DateTimeFormat>();

/** A cached Intl.DateTimeFormat; an unknown time zone falls back to UTC. */
export function dtf(locale: string | undefined, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale ?? ""}|${JSON.stringify(opts)}`;
  let f = dtfCache.get(key);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat(locale, opts);
    } catch {
      // An unknown time zone name: fall back to UTC rather than break the page.
      f = new Intl.DateTimeFormat(locale, { ...opts, timeZone: "UTC" });
    }
    dtfCache.set(key, f);
  }
  return f;
}

/** Epoch ms → "Nov 23, 2026, 14:05 UTC" in the given IANA time zone. */
export function formatDateTime(ms: number, timeZone: string, locale?: string): string {
  return dtf(locale, {
    timeZone,
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZoneName: "short",
  }).format(ms);
}

/** Epoch ms → "14:05:09" in the given time zone. */
export function formatTime(ms: number, timeZone: string, locale?: string): string {
  return dtf(locale, { timeZone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }).format(ms);
}

/** The wall clock of `timeZone` at `ms`, field by field ("2026", "11", ..., "GMT-05:00"). */
function wallClock(ms: number, timeZone: string): Record<string, string> {
  const f = dtf("en-US", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
    timeZoneName: "longOffset",
  });
  return Object.fromEntries(f.formatToParts(ms).map((p) => [p.type, p.value]));
}

/** How far the time zone's wall clock is ahead of UTC at `ms`, in ms (-5 h → -18 000 000). */
export function zoneOffsetMs(ms: number, timeZone: string): number {
  const p = wallClock(ms, timeZone);
  const wall = Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!, +p.minute!, +p.second!);
  return wall - (ms - (((ms % 1000) + 1000) % 1000));
}

/** Epoch ms → ISO-8601 with the time zone's offset: "2026-11-23T09:05:09-05:00". */
export function formatIso(ms: number, timeZone: string): string {
  const parts = wallClock(ms, timeZone);
  const raw = (parts.timeZoneName ?? "GMT").replace("GMT", "");
  const off = raw === "" || raw === "+00:00" ? "Z" : raw;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${off}`;
}

/**
 * A calendar date "2026-11-17" (already a day in the team time zone) → "Tue 17 Nov".
 * Formatted in UTC on purpose: the date must not move to the viewer's time zone.
 */
export function formatDay(date: string, locale?: string, style: "short" | "weekday" = "short"): string {
  const [y, m, d] = date.split("-").map(Number);
  if (!y || !m || !d) return date;
  const ms = Date.UTC(y, m - 1, d);
  if (style === "weekday") return dtf(locale, { timeZone: "UTC", weekday: "short" }).format(ms);
  return dtf(locale, { timeZone: "UTC", weekday: "short", day: "numeric", month: "short" }).format(ms);
}

export const PERIOD_LABELS: Record<string, { short: string; long: string; previous: string }> = {
  "24h": { short: "24 h", long: "last 24 hours", previous: "the previous 24 hours" },
  "7d": { short: "7 d", long: "last 7 days", previous: "the previous 7 days" },
  "30d": { short: "30 d", long: "last 30 days", previous: "the previous 30 days" },
};
