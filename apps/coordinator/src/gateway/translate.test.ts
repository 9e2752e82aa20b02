import { test } from "node:test";
import assert from "node:assert/strict";
import { chatCompletionRequest, completionRequest } from "@flotilla/protocol";
import { chatToGeneration, completionToGeneration } from "./translate.ts";

test("chat: developer becomes system, text parts are joined, null content is empty", () => {
  const body = chatCompletionRequest.parse({
    model: "m",
    messages: [
      { role: "developer", content: "Be brief." },
      { role: "user", content: [{ type: "text", text: "Hel" }, { type: "text", text: "lo" }] },
      { role: "assistant", content: null },
    ],
    stop: "END",
    max_tokens: 7,
    max_completion_tokens: 9,
  });
  const g = chatToGeneration(body);
  assert.deepEqual(g.input, {
    kind: "chat",
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hello" },
      { role: "assistant", content: "" },
    ],
  });
  assert.deepEqual(g.params.stop, ["END"]);
  assert.equal(g.params.maxTokens, 9, "max_completion_tokens wins over the older max_tokens");
});

test("chat: tools, the tool choice, calls and their results, and the response format become the workload's", () => {
  const body = chatCompletionRequest.parse({
    model: "m",
    messages: [
      { role: "user", content: "Weather?" },
      { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "weather", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "call_1", content: "cold" },
    ],
    tools: [{ type: "function", function: { name: "weather", description: "now", parameters: { type: "object" } } }],
    tool_choice: { type: "function", function: { name: "weather" } },
    parallel_tool_calls: false,
    response_format: { type: "json_schema", json_schema: { name: "s", schema: { type: "object" }, strict: true } },
  });
  const g = chatToGeneration(body);
  assert.deepEqual(g.input, {
    kind: "chat",
    messages: [
      { role: "user", content: "Weather?" },
      { role: "assistant", content: "", toolCalls: [{ id: "call_1", name: "weather", arguments: "{}" }] },
      { role: "tool", toolCallId: "call_1", content: "cold" },
    ],
    tools: [{ name: "weather", description: "now", parameters: { type: "object" } }],
    toolChoice: { name: "weather" },
    parallelToolCalls: false,
  });
  assert.deepEqual(g.params.responseFormat, { type: "json_schema", name: "s", schema: { type: "object" }, strict: true });
  const anyJson = chatToGeneration(chatCompletionRequest.parse({ model: "m", messages: [{ role: "user", content: "x" }], response_format: { type: "json_object" } }));
  assert.deepEqual(anyJson.params.responseFormat, { type: "json" });
});

test("chat: what OpenAI refuses of tools is refused with the field named", () => {
  const issue = (body: unknown) => {
    const parsed = chatCompletionRequest.safeParse(body);
    assert.equal(parsed.success, false, JSON.stringify(body));
    return { path: parsed.error?.issues[0]?.path, message: parsed.error?.issues[0]?.message ?? "" };
  };
  const user = { role: "user", content: "x" };
  assert.deepEqual(issue({ model: "m", messages: [user], tool_choice: "required" }).path, ["tool_choice"]);
  assert.deepEqual(issue({ model: "m", messages: [{ role: "tool", tool_call_id: "c", content: "1" }] }).path, ["messages", 0, "tool_call_id"]);
  const unanswered = issue({ model: "m", messages: [user, { role: "assistant", tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{}" } }] }, user] });
  assert.deepEqual(unanswered.path, ["messages", 1, "tool_calls"]);
  assert.match(unanswered.message, /'c'/);
  assert.match(issue({ model: "m", messages: [user], tools: [{ type: "function", function: { name: "has space" } }] }).message, /function name/);
});

test("completions default to 16 tokens, as OpenAI's do", () => {
  const g = completionToGeneration(completionRequest.parse({ model: "m", prompt: ["Once"] }));
  assert.deepEqual(g.input, { kind: "completion", prompt: "Once" });
  assert.equal(g.params.maxTokens, 16);
  assert.deepEqual(g.params.stop, []);
});
