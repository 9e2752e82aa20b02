import { test } from "node:test";
import assert from "node:assert/strict";
import { byteRange, contentRange } from "./byte-range.ts";

const SIZE = 1000;

test("no Range header: the whole file", () => {
  assert.deepEqual(byteRange(undefined, SIZE), { kind: "whole" });
});

test("a single range is served as asked, its end clamped to the file", () => {
  assert.deepEqual(byteRange("bytes=0-99", SIZE), { kind: "partial", start: 0, end: 99 });
  assert.deepEqual(byteRange("bytes=500-500", SIZE), { kind: "partial", start: 500, end: 500 });
  assert.deepEqual(byteRange("bytes=900-5000", SIZE), { kind: "partial", start: 900, end: 999 });
  assert.deepEqual(byteRange("Bytes = 10-19", SIZE), { kind: "partial", start: 10, end: 19 }, "the unit is case-insensitive, spaces allowed");
});

test("an open end runs to the last byte: how a download resumes", () => {
  assert.deepEqual(byteRange("bytes=600-", SIZE), { kind: "partial", start: 600, end: 999 });
  assert.deepEqual(byteRange("bytes=999-", SIZE), { kind: "partial", start: 999, end: 999 });
  assert.deepEqual(byteRange("bytes=0-", SIZE), { kind: "partial", start: 0, end: 999 });
});

test("a suffix range is the last N bytes, all of them when N is larger than the file", () => {
  assert.deepEqual(byteRange("bytes=-100", SIZE), { kind: "partial", start: 900, end: 999 });
  assert.deepEqual(byteRange("bytes=-5000", SIZE), { kind: "partial", start: 0, end: 999 });
});

test("a range that starts past the end, or an empty suffix, is unsatisfiable (416)", () => {
  assert.deepEqual(byteRange("bytes=1000-", SIZE), { kind: "unsatisfiable" });
  assert.deepEqual(byteRange("bytes=1000-2000", SIZE), { kind: "unsatisfiable" });
  assert.deepEqual(byteRange("bytes=99999999999999999999-", SIZE), { kind: "unsatisfiable" });
  assert.deepEqual(byteRange("bytes=-0", SIZE), { kind: "unsatisfiable" });
  assert.deepEqual(byteRange("bytes=0-", 0), { kind: "unsatisfiable" });
});

test("several ranges get the whole file (200), not a multipart body", () => {
  assert.deepEqual(byteRange("bytes=0-1,5-9", SIZE), { kind: "whole" });
  assert.deepEqual(byteRange("bytes=0-1, 2000-3000", SIZE), { kind: "whole" });
});

test("what is not a byte range is ignored: another unit, malformed numbers, last before first", () => {
  for (const header of ["items=0-1", "bytes=a-b", "bytes=-", "bytes=", "bytes=1-2-3", "bytes=50-10", "bytes=1.5-2", "0-10"]) {
    assert.deepEqual(byteRange(header, SIZE), { kind: "whole" }, header);
  }
});

test("Content-Range for each answer", () => {
  assert.equal(contentRange({ kind: "whole" }, SIZE), undefined);
  assert.equal(contentRange({ kind: "partial", start: 600, end: 999 }, SIZE), "bytes 600-999/1000");
  assert.equal(contentRange({ kind: "unsatisfiable" }, SIZE), "bytes */1000");
});
