import { test } from "node:test";
import assert from "node:assert/strict";
import { chatCompletionRequest, completionRequest, formatParam } from "./openai.ts";

test("formatParam writes paths the way OpenAI names params", () => {
  assert.equal(formatParam(["messages", 0, "role"]), "messages[0].role");
  assert.equal(formatParam(["stop", 4]), "stop[4]");
  assert.equal(formatParam([]), "");
});

test("unknown fields are dropped, known ones kept", () => {
  const parsed = chatCompletionRequest.parse({
    model: "m",
    messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
    some_future_field: true,
    max_completion_tokens: 5,
  });
  assert.equal("some_future_field" in parsed, false);
  assert.equal(parsed.max_completion_tokens, 5);
});

test("fields flotilla cannot honour are refused, not ignored", () => {
  const base = { model: "m", messages: [{ role: "user", content: "x" }] };
  for (const extra of [{ logprobs: true }, { n: 3 }, { response_format: { type: "json_schema" } }, { tools: [{}] }]) {
    assert.equal(chatCompletionRequest.safeParse({ ...base, ...extra }).success, false, JSON.stringify(extra));
  }
  assert.equal(completionRequest.safeParse({ model: "m", prompt: ["a", "b"] }).success, false);
  assert.equal(completionRequest.safeParse({ model: "m", prompt: "a", suffix: "z" }).success, false);
  assert.equal(completionRequest.safeParse({ model: "m", prompt: ["a"], suffix: null }).success, true);
});

test("flotilla's own fields are kept when valid and refused, naming the field, when not", () => {
  const base = { model: "m", messages: [{ role: "user", content: "x" }] };
  const parsed = chatCompletionRequest.parse({ ...base, prefer_tier: 2, tier_fallback: false, continue_on_failure: true, priority: "high" });
  assert.deepEqual([parsed.prefer_tier, parsed.tier_fallback, parsed.continue_on_failure, parsed.priority], [2, false, true, "high"]);
  for (const [field, value] of [["prefer_tier", 3], ["continue_on_failure", "yes"], ["priority", "urgent"]] as const) {
    const result = completionRequest.safeParse({ model: "m", prompt: "a", [field]: value });
    assert.equal(result.success, false, field);
    assert.equal(formatParam(result.error?.issues[0]?.path ?? []), field);
  }
});
