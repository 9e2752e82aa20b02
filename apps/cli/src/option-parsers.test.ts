import { test } from "node:test";
import assert from "node:assert/strict";
import { parseDurationMs, parsePositiveInt } from "./option-parsers.ts";

test("durations take a unit", () => {
  assert.equal(parseDurationMs("15m"), 900_000);
  assert.equal(parseDurationMs("1s"), 1_000);
  assert.equal(parseDurationMs("250ms"), 250);
  assert.equal(parseDurationMs("2d"), 172_800_000);
  for (const bad of ["15", "m", "1.5h", "-1s", "10 years"]) assert.throws(() => parseDurationMs(bad), /use a number and a unit/);
});

test("counts are whole and positive", () => {
  assert.equal(parsePositiveInt("3"), 3);
  for (const bad of ["0", "-2", "1.5", "x"]) assert.throws(() => parsePositiveInt(bad), /whole number/);
});
