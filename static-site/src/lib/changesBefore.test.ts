import { describe, expect, it } from "vitest";
import type { FeedEntry } from "../api/timeline";
import { CHANGE_WINDOW_MS, changesBefore, rangeBefore } from "./changesBefore";

const HOUR = CHANGE_WINDOW_MS;
const deploy = (at: number, id: string): FeedEntry => ({
  at, kind: "ci", id, title: `deploy ${id}`, severity: null, status: "success", link: `#/ci?run=${id}`,
});

describe("changesBefore", () => {
  it("keeps the deploys of the hour before the start, newest first", () => {
    const start = 10 * HOUR;
    const entries = [deploy(start - HOUR - 1, "too-early"), deploy(start - HOUR, "edge"), deploy(start - 60_000, "late"),
      deploy(start + 1, "after")];
    expect(changesBefore(start, entries).map((e) => e.id)).toEqual(["late", "edge"]);
  });
});

describe("rangeBefore", () => {
  it("covers the hour before the oldest start up to the newest", () => {
    expect(rangeBefore([5 * HOUR, 3 * HOUR, 4 * HOUR])).toEqual({ since: 2 * HOUR, until: 5 * HOUR });
  });

  it("never asks for more than the API's longest range, keeping the newest starts", () => {
    const day = 24 * HOUR;
    expect(rangeBefore([0, 60 * day])).toEqual({ since: 60 * day - 31 * day, until: 60 * day });
  });

  it("is null for no starts", () => {
    expect(rangeBefore([])).toBeNull();
  });
});
