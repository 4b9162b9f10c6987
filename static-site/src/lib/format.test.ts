import { describe, expect, it } from "vitest";
import {
  currencyDigits,
  formatChange,
  formatCount,
  formatDateTime,
  formatDay,
  formatDuration,
  formatFraction,
  formatIso,
  formatMoney,
  formatMoneyCompact,
  formatTime,
} from "./format";

describe("money in minor units", () => {
  it("knows each currency's minor-unit digits", () => {
    expect(currencyDigits("USD")).toBe(2);
    expect(currencyDigits("JPY")).toBe(0);
    expect(currencyDigits("KWD")).toBe(3);
  });

  it("formats cents as dollars", () => {
    expect(formatMoney(123450, "USD", "en-US")).toBe("$1,234.50");
    expect(formatMoney(0, "USD", "en-US")).toBe("$0.00");
    expect(formatMoney(-1999, "USD", "en-US")).toBe("-$19.99");
  });

  it("does not divide currencies without minor units", () => {
    expect(formatMoney(1500, "JPY", "en-US")).toBe("¥1,500");
  });

  it("uses three digits where the currency has them", () => {
    expect(formatMoney(1234, "KWD", "en-US")).toBe("KWD\u00a01.234");
  });

  it("follows the locale and the currency independently", () => {
    expect(formatMoney(123450, "EUR", "de-DE")).toBe("1.234,50\u00a0€");
  });

  it("is exact for large amounts", () => {
    expect(formatMoney(123456789012, "USD", "en-US")).toBe("$1,234,567,890.12");
  });

  it("falls back to the code for an unknown currency", () => {
    expect(formatMoney(1050, "XX", "en-US")).toBe("10.50 XX");
  });

  it("has a compact form for axes", () => {
    expect(formatMoneyCompact(123450, "USD", "en-US")).toBe("$1.2K");
    expect(formatMoneyCompact(300000000, "USD", "en-US")).toBe("$3M");
  });
});

describe("percentages", () => {
  it("formats changes with a sign and an arrow", () => {
    expect(formatChange(23.45, "en-US")).toMatchObject({ direction: "up", arrow: "▲", text: "+23.5%" });
    expect(formatChange(-12, "en-US")).toMatchObject({ direction: "down", arrow: "▼", text: "\u221212.0%" });
    expect(formatChange(0, "en-US")).toMatchObject({ direction: "flat", arrow: "▶", text: "0.0%" });
  });

  it("calls a change that rounds to zero flat, whatever its sign", () => {
    expect(formatChange(0.04, "en-US").direction).toBe("flat");
    expect(formatChange(-0.04, "en-US").direction).toBe("flat");
  });

  it("says n/a when there is no previous value", () => {
    expect(formatChange(null, "en-US")).toMatchObject({ direction: "none", text: "n/a" });
  });

  it("gives screen readers words, not symbols", () => {
    expect(formatChange(5, "en-US", "the previous 7 days").label).toBe("up 5.0% from the previous 7 days");
    expect(formatChange(-5, "en-US").label).toBe("down 5.0% from the previous period");
  });

  it("formats fractions as percentages", () => {
    expect(formatFraction(0.0345, "en-US")).toBe("3.45%");
    expect(formatFraction(0.5, "en-US")).toBe("50.0%");
    expect(formatFraction(0, "en-US")).toBe("0.0%");
  });

  it("formats counts with grouping", () => {
    expect(formatCount(1234567, "en-US")).toBe("1,234,567");
  });
});

describe("durations", () => {
  it.each([
    [0, "0s"],
    [45_000, "45s"],
    [183_000, "3m 03s"],
    [3_723_000, "1h 02m"],
    [59_600, "1m 00s"],
    [-1, "–"],
  ])("%d ms → %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe("dates in a given time zone", () => {
  // 2026-11-23T03:30:00Z
  const t = Date.UTC(2026, 10, 23, 3, 30, 0);

  it("formats in the team time zone, not the viewer's", () => {
    expect(formatDateTime(t, "UTC", "en-US")).toBe("Nov 23, 2026, 03:30 UTC");
    expect(formatDateTime(t, "America/New_York", "en-US")).toBe("Nov 22, 2026, 22:30 EST");
    expect(formatTime(t, "Asia/Tokyo", "en-US")).toBe("12:30:00");
  });

  it("writes ISO-8601 with the zone's offset", () => {
    expect(formatIso(t, "UTC")).toBe("2026-11-23T03:30:00Z");
    expect(formatIso(t, "America/New_York")).toBe("2026-11-22T22:30:00-05:00");
    expect(formatIso(t, "Asia/Kolkata")).toBe("2026-11-23T09:00:00+05:30");
  });

  it("falls back to UTC for an unknown zone", () => {
    expect(formatTime(t, "Mars/Olympus", "en-US")).toBe("03:30:00");
  });

  it("keeps calendar dates on their day", () => {
    expect(formatDay("2026-11-17", "en-US")).toBe("Tue, Nov 17");
    expect(formatDay("2026-11-17", "en-US", "weekday")).toBe("Tue");
    expect(formatDay("garbage", "en-US")).toBe("garbage");
  });
});
