import { test } from "node:test";
import assert from "node:assert/strict";
import type { Chunk } from "@flotilla/protocol";
import { ToolCallAssembly } from "./tool-call-assembly.ts";

test("numbered pieces make calls: the first chunk of each carries its id and name, later ones only arguments", () => {
  const chunks: Chunk[] = [];
  const calls = new ToolCallAssembly((c) => chunks.push(c));
  calls.add({ index: 0, id: "call_a", name: "weather", argumentsDelta: "" });
  calls.add({ index: 0, argumentsDelta: '{"city":' });
  calls.add({ index: 1, id: "call_b", name: "time", argumentsDelta: "{}" });
  calls.add({ index: 0, argumentsDelta: '"Oslo"}' });
  assert.deepEqual(chunks, [
    { type: "tool_call", index: 0, id: "call_a", name: "weather", argumentsDelta: "" },
    { type: "tool_call", index: 0, argumentsDelta: '{"city":' },
    { type: "tool_call", index: 1, id: "call_b", name: "time", argumentsDelta: "{}" },
    { type: "tool_call", index: 0, argumentsDelta: '"Oslo"}' },
  ]);
  assert.deepEqual(calls.result("tool_calls"), {
    finishReason: "tool_calls",
    toolCalls: [
      { id: "call_a", name: "weather", arguments: '{"city":"Oslo"}' },
      { id: "call_b", name: "time", arguments: "{}" },
    ],
  });
});

test("unnumbered whole calls follow each other, and calls that ended in 'stop' ended in tool calls", () => {
  const calls = new ToolCallAssembly(undefined);
  calls.add({ id: "x", name: "a", argumentsDelta: "{}" });
  calls.add({ id: "y", name: "b", argumentsDelta: "{}" });
  const result = calls.result("stop");
  assert.equal(result.finishReason, "tool_calls");
  assert.deepEqual(result.toolCalls?.map((c) => c.name), ["a", "b"]);
  assert.deepEqual(new ToolCallAssembly(undefined).result("stop"), { finishReason: "stop" });
});
