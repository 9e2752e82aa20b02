// The SSE framing the job event stream uses, cut at every place a network can cut it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_EVENT_CHARS, SseDataReader } from "./sse-data.ts";

const STREAM = ': a comment\nevent: job\nid: 7\ndata: {"a":1}\n\ndata: first\ndata:second\r\n\r\nretry: 100\ndata\n\n';

test("each event's data comes out whole, in order, wherever the text was cut", () => {
  for (let cut = 0; cut <= STREAM.length; cut += 1) {
    const reader = new SseDataReader();
    const out = [...reader.push(STREAM.slice(0, cut)), ...reader.push(STREAM.slice(cut))];
    assert.deepEqual(out, ['{"a":1}', "first\nsecond", ""], `cut at ${cut}`);
  }
});

test("a CR alone ends a line, and a CRLF cut between its two characters is one line end, not two", () => {
  const reader = new SseDataReader();
  assert.deepEqual(reader.push("data: x\r"), []);
  assert.deepEqual(reader.push("\ndata: y\r\r"), ["x\ny"]);
});

test("an event without its blank line yet is held back; one with no data is no event", () => {
  const reader = new SseDataReader();
  assert.deepEqual(reader.push("data: held\n"), []);
  assert.deepEqual(reader.push(": ping\n\n"), ["held"]);
  assert.deepEqual(reader.push("event: only\n\n"), []);
});

test("an event that grows past the bound is refused, with or without line ends", () => {
  const big = "x".repeat(MAX_EVENT_CHARS);
  assert.throws(() => new SseDataReader().push(`data: ${big}`), RangeError);
  const reader = new SseDataReader();
  reader.push(`data: ${"y".repeat(MAX_EVENT_CHARS / 2)}\n`);
  assert.throws(() => reader.push(`data: ${"y".repeat(MAX_EVENT_CHARS / 2)}\n`), RangeError);
});
