// Resuming an answer on another node (continue_on_failure): how the request
// is rewritten so the text already sent to the client is the start of the
// answer, and how max_tokens shrinks by what was already generated.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ChatTurn, GenerationRequest } from "@flotilla/protocol";
import { continuation, resumable } from "./continuation.ts";

const params = (maxTokens: number | undefined): GenerationRequest["params"] => ({
  maxTokens,
  temperature: 0.7,
  topP: undefined,
  seed: 42,
  stop: ["\n\n"],
  presencePenalty: undefined,
  frequencyPenalty: undefined,
});

const chat = (messages: ChatTurn[], maxTokens: number | undefined): GenerationRequest => ({
  model: "llama3",
  input: { kind: "chat", messages },
  params: params(maxTokens),
});

const completion = (prompt: string, maxTokens: number | undefined): GenerationRequest => ({
  model: "llama3",
  input: { kind: "completion", prompt },
  params: params(maxTokens),
});

test("chat: the text sent so far becomes an open assistant turn after the conversation", () => {
  const original = chat([
    { role: "system", content: "Be brief." },
    { role: "user", content: "Name three colours." },
  ], 100);
  const next = continuation(original, "Red, green", 3);
  assert.ok(next);
  assert.equal(next.model, "llama3");
  assert.deepEqual(next.input, {
    kind: "chat",
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Name three colours." },
      { role: "assistant", content: "Red, green" },
    ],
  });
});

test("chat: a client's own trailing assistant prefix gets the sent text appended, not a second turn", () => {
  const original = chat([
    { role: "user", content: "Write JSON." },
    { role: "assistant", content: "{\"a\": " },
  ], 100);
  const next = continuation(original, "1, \"b\": ", 4);
  assert.ok(next);
  assert.deepEqual(next.input, {
    kind: "chat",
    messages: [
      { role: "user", content: "Write JSON." },
      { role: "assistant", content: "{\"a\": 1, \"b\": " },
    ],
  });
});

test("completion: the sent text is appended to the prompt", () => {
  const next = continuation(completion("Once upon", 100), " a time", 2);
  assert.ok(next);
  assert.deepEqual(next.input, { kind: "completion", prompt: "Once upon a time" });
});

test("max_tokens shrinks by the tokens the sent chunks say they used; the other parameters stay", () => {
  const next = continuation(chat([{ role: "user", content: "go" }], 100), "x".repeat(40), 10);
  assert.ok(next);
  assert.equal(next.params.maxTokens, 90);
  assert.deepEqual({ ...next.params, maxTokens: 100 }, params(100));

  assert.equal(continuation(completion("p", 10), "anything", 10), undefined, "all ten used");
  assert.equal(continuation(completion("p", 10), "anything", 9)?.params.maxTokens, 1);
});

test("no max_tokens stays no max_tokens", () => {
  const next = continuation(completion("p", undefined), "a long text already sent ".repeat(100), 500);
  assert.ok(next);
  assert.equal(next.params.maxTokens, undefined);
});

test("undefined when max_tokens is used up: the answer ends where it is", () => {
  assert.equal(continuation(chat([{ role: "user", content: "go" }], 10), "x".repeat(40), 10), undefined);
  assert.equal(continuation(completion("p", 10), "x".repeat(400), 100), undefined);
});

test("the original request is not changed", () => {
  const originalChat = chat([
    { role: "user", content: "hi" },
    { role: "assistant", content: "Hel" },
  ], 100);
  const chatBefore = structuredClone(originalChat);
  continuation(originalChat, "lo there", 2);
  assert.deepEqual(originalChat, chatBefore);

  const originalCompletion = completion("Once upon", 100);
  const completionBefore = structuredClone(originalCompletion);
  continuation(originalCompletion, " a time", 2);
  assert.deepEqual(originalCompletion, completionBefore);
});

test("only free text is resumable: a grammar would restart at the seam", () => {
  const plain = chat([{ role: "user", content: "hi" }], 100);
  assert.equal(resumable(plain), true);
  assert.equal(resumable({ ...plain, params: { ...plain.params, responseFormat: { type: "json" } } }), false);
  const tools = [{ name: "weather" }];
  assert.equal(resumable({ ...plain, input: { kind: "chat", messages: [{ role: "user", content: "hi" }], tools } }), false);
  assert.equal(resumable({ ...plain, input: { kind: "chat", messages: [{ role: "user", content: "hi" }], tools, toolChoice: "none" } }), true);
  assert.equal(resumable({ model: "m", input: { kind: "embedding", items: ["x"] } }), false);
});
