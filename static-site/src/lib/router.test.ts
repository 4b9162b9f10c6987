import { describe, expect, it } from "vitest";
import { buildHash, parseHash } from "./router";

describe("hash routes", () => {
  it.each([
    ["", "/"],
    ["#", "/"],
    ["#/", "/"],
    ["#/hosts", "/hosts"],
    ["#/hosts/", "/hosts"],
    ["#hosts", "/hosts"],
    ["#/a%20b", "/a b"],
    ["#/%E0%A4%A", "/%E0%A4%A"],
  ])("%s → %s", (hash, path) => {
    expect(parseHash(hash).path).toBe(path);
  });

  it("reads and writes the query", () => {
    expect(parseHash("#/?period=7d").query.get("period")).toBe("7d");
    expect(buildHash("/", { period: "30d" })).toBe("#/?period=30d");
    expect(buildHash("/alerts")).toBe("#/alerts");
  });
});
