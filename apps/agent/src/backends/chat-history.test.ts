import assert from "node:assert/strict";
import test from "node:test";
import { toChatHistory } from "./chat-history.ts";

test("a plain conversation ends with an open model turn", () => {
  assert.deepEqual(toChatHistory([{ role: "system", content: "be brief" }, { role: "user", content: "hi" }]), [
    { type: "system", text: "be brief" },
    { type: "user", text: "hi" },
    { type: "model", response: [] },
  ]);
});

test("an assistant's last message is continued", () => {
  assert.deepEqual(toChatHistory([{ role: "user", content: "hi" }, { role: "assistant", content: "Once" }]).at(-1), { type: "model", response: ["Once"] });
});

test("a tool call and its result are one item, and the answer after the results continues that turn", () => {
  const history = toChatHistory([
    { role: "user", content: "weather in Paris?" },
    { role: "assistant", content: "", toolCalls: [{ id: "call_1", name: "weather", arguments: '{"city":"Paris"}' }] },
    { role: "tool", toolCallId: "call_1", content: '{"celsius":3}' },
  ]);
  assert.deepEqual(history, [
    { type: "user", text: "weather in Paris?" },
    { type: "model", response: [{ type: "functionCall", name: "weather", params: { city: "Paris" }, result: { celsius: 3 } }] },
  ]);
  const answered = toChatHistory([
    { role: "user", content: "weather?" },
    { role: "assistant", content: "", toolCalls: [{ id: "c", name: "weather", arguments: "not json" }] },
    { role: "tool", toolCallId: "c", content: "cold" },
    { role: "assistant", content: "It is cold." },
    { role: "user", content: "thanks" },
  ]);
  assert.deepEqual(answered[1], { type: "model", response: [{ type: "functionCall", name: "weather", params: "not json", result: "cold" }, "It is cold."] });
  assert.deepEqual(answered.slice(2), [{ type: "user", text: "thanks" }, { type: "model", response: [] }]);
});
