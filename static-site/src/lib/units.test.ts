import { describe, expect, it } from "vitest";
import {
  formatBytes,
  formatBytesPerSecond,
  formatHttpStatus,
  formatInterval,
  formatMs,
  formatNumber,
  formatPercent,
  formatRate,
  formatUptime,
  formatterFor,
} from "./units";

describe("percentages on the agent's 0–100 scale", () => {
  it("keeps one decimal, two below 1 %, none at 100 %", () => {
    expect(formatPercent(12.5, "en-US")).toBe("12.5%");
    expect(formatPercent(48, "en-US")).toBe("48%");
    expect(formatPercent(0.25, "en-US")).toBe("0.25%");
    expect(formatPercent(0, "en-US")).toBe("0%");
    expect(formatPercent(100, "en-US")).toBe("100%");
    expect(formatPercent(99.96, "en-US")).toBe("100%");
  });

  it("follows the locale", () => {
    expect(formatPercent(12.5, "de-DE")).toBe("12,5\u00a0%");
  });

  it("shows a dash for what is missing, never 0 or NaN", () => {
    expect(formatPercent(null)).toBe("–");
    expect(formatPercent(undefined)).toBe("–");
    expect(formatPercent(Number.NaN)).toBe("–");
  });
});

describe("bytes and bytes per second", () => {
  it("uses decimal units with three significant digits", () => {
    expect(formatBytes(0, "en-US")).toBe("0 B");
    expect(formatBytes(999, "en-US")).toBe("999 B");
    expect(formatBytes(1536, "en-US")).toBe("1.54 kB");
    expect(formatBytes(20_480, "en-US")).toBe("20.5 kB");
    expect(formatBytes(123_456, "en-US")).toBe("123 kB");
    expect(formatBytes(2_500_000, "en-US")).toBe("2.5 MB");
    expect(formatBytes(7.2e12, "en-US")).toBe("7.2 TB");
  });

  it("moves to the next unit instead of printing 1000 of the previous one", () => {
    expect(formatBytes(999_999, "en-US")).toBe("1 MB");
    expect(formatBytes(999.6, "en-US")).toBe("1 kB");
  });

  it("adds /s for rates", () => {
    expect(formatBytesPerSecond(20_480, "en-US")).toBe("20.5 kB/s");
    expect(formatBytesPerSecond(512, "en-US")).toBe("512 B/s");
    expect(formatBytesPerSecond(null)).toBe("–");
  });
});

describe("other units", () => {
  it("response times in ms, seconds from 1 s", () => {
    expect(formatMs(84.2, "en-US")).toBe("84 ms");
    expect(formatMs(0.4, "en-US")).toBe("0.4 ms");
    expect(formatMs(1234, "en-US")).toBe("1.23 s");
    expect(formatMs(12_345, "en-US")).toBe("12.3 s");
  });

  it("rates with their unit, compact when large", () => {
    expect(formatRate(3.214, "req/s", "en-US")).toBe("3.21 req/s");
    expect(formatRate(250, "req/s", "en-US")).toBe("250 req/s");
    expect(formatRate(12_500, "req/s", "en-US")).toBe("12.5K req/s");
  });

  it("plain numbers", () => {
    expect(formatNumber(1.4123, "en-US")).toBe("1.41");
    expect(formatNumber(12, "en-US")).toBe("12");
    expect(formatNumber(1234, "en-US")).toBe("1,234");
    expect(formatNumber(123_456, "en-US")).toBe("123.5K");
  });

  it("uptime, HTTP status and intervals", () => {
    expect(formatUptime(93_784)).toBe("1d 2h");
    expect(formatUptime(7260)).toBe("2h 1m");
    expect(formatUptime(59)).toBe("59s");
    expect(formatHttpStatus(200)).toBe("200");
    expect(formatHttpStatus(0)).toBe("No response");
    expect(formatInterval(10_000)).toBe("10 s");
    expect(formatInterval(120_000)).toBe("2 min");
    expect(formatInterval(3_600_000)).toBe("1 h");
    expect(formatInterval(90_000)).toBe("90 s");
  });

  it("one formatter per chart unit", () => {
    expect(formatterFor("percent", "en-US")(50)).toBe("50%");
    expect(formatterFor("bytesPerSecond", "en-US")(2048)).toBe("2.05 kB/s");
    expect(formatterFor("ms", "en-US")(15)).toBe("15 ms");
    expect(formatterFor("perSecond", "en-US", "req/s")(2)).toBe("2 req/s");
    expect(formatterFor("number", "en-US")(null)).toBe("–");
  });
});
