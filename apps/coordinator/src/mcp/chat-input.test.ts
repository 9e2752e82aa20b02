// The chat and explain_route tools' input, and the /v1 body it stands for.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chatCompletionRequest } from "@flotilla/protocol";
import { chatToolInput, toChatCompletionBody } from "./chat-input.ts";

test("exactly one of messages and prompt", () => {
  assert.ok(chatToolInput.safeParse({ model: "m", prompt: "hi" }).success);
  assert.ok(chatToolInput.safeParse({ model: "m", messages: [{ role: "user", content: "hi" }] }).success);
  for (const input of [{ model: "m" }, { model: "m", prompt: "hi", messages: [{ role: "user", content: "hi" }] }]) {
    const result = chatToolInput.safeParse(input);
    assert.equal(result.success, false);
    assert.deepEqual(result.error?.issues.map((i) => [i.path.join("."), i.message]), [["messages", "give exactly one of messages and prompt"]]);
  }
});

test("refuses what a host should not send: another tier, a tool turn, an empty model, a temperature out of range", () => {
  for (const [input, path] of [
    [{ model: "m", prompt: "hi", prefer_tier: 3 }, "prefer_tier"],
    [{ model: "m", messages: [{ role: "tool", content: "x" }] }, "messages.0.role"],
    [{ model: "", prompt: "hi" }, "model"],
    [{ model: "m", prompt: "hi", temperature: 3 }, "temperature"],
    [{ model: "m", prompt: "hi", max_tokens: 0 }, "max_tokens"],
  ] as const) {
    const result = chatToolInput.safeParse(input);
    assert.equal(result.error?.issues[0]?.path.join("."), path, JSON.stringify(input));
  }
});

test("a prompt is one user message; absent fields stay absent; the body is a valid /v1 request", () => {
  const body = toChatCompletionBody(chatToolInput.parse({ model: "m", prompt: "Once" }));
  assert.deepEqual(body, { model: "m", messages: [{ role: "user", content: "Once" }] });
  const full = toChatCompletionBody(
    chatToolInput.parse({ model: "m", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }], prefer_tier: 2, max_tokens: 8, temperature: 0 }),
  );
  assert.deepEqual(full, { model: "m", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }], prefer_tier: 2, max_tokens: 8, temperature: 0 });
  assert.deepEqual(chatCompletionRequest.parse(full), full);
});
