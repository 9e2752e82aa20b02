import { test } from "node:test";
import assert from "node:assert/strict";
import { FlotillaError, type GenerationResult } from "@flotilla/protocol";
import { ollamaChatRequest, ollamaEmbedRequest, ollamaGenerateRequest } from "./ollama-schemas.ts";
import {
  chatFinal,
  chatToGeneration,
  embedToWorkload,
  generateFinal,
  generateToGeneration,
  isEmptyChat,
  isEmptyPrompt,
  ollamaToolCalls,
} from "./ollama-translate.ts";
import { durationsOf } from "./ollama-timing.ts";

const stamp = { model: "m", created_at: "2026-01-01T00:00:00.000Z" };
const durations = { total_duration: 30, load_duration: 0, prompt_eval_duration: 10, eval_duration: 20 };

test("chat: options become sampling params; num_predict is capped, -1 and 0 leave the bound to the node", () => {
  const body = ollamaChatRequest.parse({
    model: "m",
    messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }],
    options: { temperature: 0.5, top_p: 0.9, top_k: 40, seed: 7, num_predict: 10_000, stop: ["END", ""], num_ctx: 8192, mirostat: 2 },
    keep_alive: "5m",
    think: false,
  });
  const g = chatToGeneration(body, 4096);
  assert.deepEqual(g.input, { kind: "chat", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }] });
  assert.deepEqual(g.params, { maxTokens: 4096, temperature: 0.5, topP: 0.9, topK: 40, seed: 7, stop: ["END"], presencePenalty: undefined, frequencyPenalty: undefined });
  for (const n of [-1, -2, 0]) {
    assert.equal(chatToGeneration(ollamaChatRequest.parse({ ...body, options: { num_predict: n } })).params.maxTokens, undefined);
  }
  assert.equal(chatToGeneration(ollamaChatRequest.parse({ ...body, options: { top_k: 0, top_p: 0 } })).params.topK, undefined);
});

test("format: json asks for any JSON, an object schema for that schema, empty for free text", () => {
  const base = { model: "m", messages: [{ role: "user", content: "Hi" }] };
  assert.deepEqual(chatToGeneration(ollamaChatRequest.parse({ ...base, format: "json" })).params.responseFormat, { type: "json" });
  const schema = { type: "object", properties: { age: { type: "integer" } }, required: ["age"] };
  assert.deepEqual(chatToGeneration(ollamaChatRequest.parse({ ...base, format: schema })).params.responseFormat, { type: "json_schema", name: "response", schema });
  assert.equal(chatToGeneration(ollamaChatRequest.parse({ ...base, format: "" })).params.responseFormat, undefined);
  assert.equal(ollamaChatRequest.safeParse({ ...base, format: "yaml" }).success, false);
});

test("tools: Ollama's calls get ids by position, tool messages answer them in order or by tool_name", () => {
  const body = ollamaChatRequest.parse({
    model: "m",
    tools: [{ type: "function", function: { name: "weather", description: "Weather in a city", parameters: { type: "object", properties: { city: { type: "string" } } } } }],
    messages: [
      { role: "user", content: "Weather in Paris and Oslo?" },
      {
        role: "assistant",
        content: "",
        tool_calls: [
          { function: { name: "weather", arguments: { city: "Paris" } } },
          { function: { name: "time", arguments: {} } },
        ],
      },
      { role: "tool", content: "12:00", tool_name: "time" },
      { role: "tool", content: "sunny" },
    ],
  });
  const g = chatToGeneration(body);
  assert.equal(g.input.kind, "chat");
  if (g.input.kind !== "chat") return;
  assert.deepEqual(g.input.tools, [{ name: "weather", description: "Weather in a city", parameters: { type: "object", properties: { city: { type: "string" } } } }]);
  assert.deepEqual(g.input.messages.slice(1), [
    { role: "assistant", content: "", toolCalls: [{ id: "call_1_0", name: "weather", arguments: '{"city":"Paris"}' }, { id: "call_1_1", name: "time", arguments: "{}" }] },
    { role: "tool", toolCallId: "call_1_1", content: "12:00" },
    { role: "tool", toolCallId: "call_1_0", content: "sunny" },
  ]);
});

test("a tool message with no call to answer is a 400 naming the message", () => {
  const body = ollamaChatRequest.parse({ model: "m", messages: [{ role: "user", content: "Hi" }, { role: "tool", content: "x" }] });
  assert.throws(() => chatToGeneration(body), (err: unknown) => err instanceof FlotillaError && err.status === 400 && err.param === "messages[1]");
});

test("images, suffix, templates and context are refused with a reason, not ignored", () => {
  const chat = ollamaChatRequest.safeParse({ model: "m", messages: [{ role: "user", content: "What is this?", images: ["aGk="] }] });
  assert.equal(chat.success, false);
  assert.match(chat.error?.issues[0]?.message ?? "", /images are not supported/);
  assert.equal(ollamaChatRequest.safeParse({ model: "m", messages: [{ role: "user", content: "Hi", images: [] }] }).success, true);
  for (const extra of [{ suffix: "end" }, { template: "{{ .Prompt }}" }, { context: [1, 2] }]) {
    assert.equal(ollamaGenerateRequest.safeParse({ model: "m", prompt: "Hi", ...extra }).success, false, JSON.stringify(extra));
  }
  assert.equal(ollamaGenerateRequest.safeParse({ model: "m", prompt: "Hi", suffix: "", context: [] }).success, true);
});

test("generate: the model's template unless raw; system comes first", () => {
  const templated = generateToGeneration(ollamaGenerateRequest.parse({ model: "m", prompt: "Why?", system: "Be kind." }));
  assert.deepEqual(templated.input, { kind: "chat", messages: [{ role: "system", content: "Be kind." }, { role: "user", content: "Why?" }] });
  const raw = generateToGeneration(ollamaGenerateRequest.parse({ model: "m", prompt: "Once upon", raw: true }));
  assert.deepEqual(raw.input, { kind: "completion", prompt: "Once upon" });
});

test("an empty chat or prompt is Ollama's load (or unload) request", () => {
  assert.equal(isEmptyChat(ollamaChatRequest.parse({ model: "m" })), true);
  assert.equal(isEmptyChat(ollamaChatRequest.parse({ model: "m", messages: [] })), true);
  assert.equal(isEmptyPrompt(ollamaGenerateRequest.parse({ model: "m", prompt: "", keep_alive: 0 })), true);
  assert.equal(isEmptyPrompt(ollamaGenerateRequest.parse({ model: "m", prompt: "x" })), false);
});

test("keep_alive is a number or a Go duration", () => {
  for (const ok of [0, -1, 300, "5m", "1h30m", "-1", "10s"]) assert.equal(ollamaChatRequest.safeParse({ model: "m", keep_alive: ok }).success, true, String(ok));
  for (const bad of ["five minutes", "5 m", ""]) assert.equal(ollamaChatRequest.safeParse({ model: "m", keep_alive: bad }).success, false, bad);
});

test("embed: one string or several", () => {
  assert.deepEqual(embedToWorkload(ollamaEmbedRequest.parse({ model: "m", input: "a" })).input.items, ["a"]);
  assert.deepEqual(embedToWorkload(ollamaEmbedRequest.parse({ model: "m", input: ["a", "b"], dimensions: 8 })).input, { kind: "embedding", items: ["a", "b"], dimensions: 8 });
});

test("finals carry the counts and durations; streamed ones leave the text to the chunks", () => {
  const result: GenerationResult = { text: "Hello", finishReason: "length", promptTokens: 5, completionTokens: 3 };
  assert.deepEqual(chatFinal(stamp, result, durations, false), {
    ...stamp,
    message: { role: "assistant", content: "Hello" },
    done: true,
    done_reason: "length",
    ...durations,
    prompt_eval_count: 5,
    eval_count: 3,
  });
  assert.equal(chatFinal(stamp, result, durations, true).message.content, "");
  assert.equal(generateFinal(stamp, result, durations, false).response, "Hello");
  assert.equal(generateFinal(stamp, { ...result, finishReason: "stop" }, durations, true).done_reason, "stop");
});

test("tool calls come out with arguments as objects, and done_reason stop", () => {
  const result: GenerationResult = {
    text: "",
    finishReason: "tool_calls",
    toolCalls: [{ id: "c1", name: "weather", arguments: '{"city":"Oslo"}' }],
    promptTokens: 5,
    completionTokens: 9,
  };
  const final = chatFinal(stamp, result, durations, false);
  assert.equal(final.done_reason, "stop");
  assert.deepEqual(final.message.tool_calls, [{ function: { name: "weather", arguments: { city: "Oslo" } } }]);
  assert.deepEqual(ollamaToolCalls([{ id: "c", name: "f", arguments: "not json" }]), [{ function: { name: "f", arguments: {} } }]);
});

test("durations: arrival to first chunk, first chunk to end; with no chunk, all before", () => {
  assert.deepEqual(durationsOf(100n, 150n, 400n), { total_duration: 300, load_duration: 0, prompt_eval_duration: 50, eval_duration: 250 });
  assert.deepEqual(durationsOf(100n, undefined, 400n), { total_duration: 300, load_duration: 0, prompt_eval_duration: 300, eval_duration: 0 });
});
