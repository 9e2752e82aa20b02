import { test } from "node:test";
import assert from "node:assert/strict";
import { SseDecoder, type SseEvent } from "./sse.ts";

function decode(text: string): SseEvent[] {
  const decoder = new SseDecoder();
  const events: SseEvent[] = [];
  for (const line of text.split("\n")) {
    const event = decoder.push(line);
    if (event) events.push(event);
  }
  const last = decoder.end();
  if (last) events.push(last);
  return events;
}

test("data lines make events, ended by a blank line", () => {
  assert.deepEqual(decode('data: {"a":1}\n\ndata:{"b":2}\n\n'), [
    { data: '{"a":1}', error: false },
    { data: '{"b":2}', error: false },
  ]);
});

test("several data lines join with newlines; comments and other fields are skipped", () => {
  assert.deepEqual(decode(": keep-alive\nid: 7\nretry: 10\ndata: one\ndata: two\n\n"), [{ data: "one\ntwo", error: false }]);
});

test("a blank line with no data makes no event", () => {
  assert.deepEqual(decode("\n\n: ping\n\n"), []);
});

test("errors: llama-server's error field, and event: error", () => {
  assert.deepEqual(decode('error: {"message":"boom"}\n\nevent: error\ndata: {"error":"x"}\n\n'), [
    { data: '{"message":"boom"}', error: true },
    { data: '{"error":"x"}', error: true },
  ]);
});

test("a last event without its blank line is kept at the end of the stream", () => {
  assert.deepEqual(decode("data: [DONE]"), [{ data: "[DONE]", error: false }]);
});
