import { test } from "node:test";
import assert from "node:assert/strict";
import type { GenerationRequest } from "@flotilla/protocol";
import { openaiDialect } from "./openai-dialect.ts";

const params = { maxTokens: 8, temperature: 0.5, topP: undefined, seed: 3, stop: [], presencePenalty: undefined, frequencyPenalty: 0.1 };

test("the model list: ids, and vLLM's max_model_len as the context size", () => {
  const llamaServer = { object: "list", data: [{ id: "qwen", object: "model", meta: { n_ctx_train: 32768 } }], models: [{ name: "qwen" }] };
  assert.deepEqual(openaiDialect.parseModels(llamaServer), { ok: true, value: [{ id: "qwen" }] });
  const vllm = { object: "list", data: [{ id: "meta/llama", max_model_len: 8192, permission: [] }] };
  assert.deepEqual(openaiDialect.parseModels(vllm), { ok: true, value: [{ id: "meta/llama", contextSize: 8192 }] });
  assert.deepEqual(openaiDialect.parseModels({ object: "list", data: [] }), { ok: true, value: [] });
  // OpenRouter's and LM Studio's name for the same thing.
  const lmStudio = { object: "list", data: [{ id: "phi", context_length: 2048 }] };
  assert.deepEqual(openaiDialect.parseModels(lmStudio), { ok: true, value: [{ id: "phi", contextSize: 2048 }] });
});

test("a body that is not a model list is refused with the field at fault", () => {
  const missing = openaiDialect.parseModels({ models: [] });
  assert.ok(!missing.ok && missing.error.startsWith("unexpected model list: data: "), JSON.stringify(missing));
  const bad = openaiDialect.parseModels({ data: [{ id: 7 }] });
  assert.ok(!bad.ok && bad.error.includes("data[0].id"), JSON.stringify(bad));
});

test("chat goes to /v1/chat/completions, streaming with usage; unset fields and an empty stop are left out", () => {
  const request: GenerationRequest = { model: "qwen", input: { kind: "chat", messages: [{ role: "user", content: "Hi" }] }, params };
  const { url, body } = openaiDialect.generation("http://10.0.0.5:8000", request);
  assert.equal(url.href, "http://10.0.0.5:8000/v1/chat/completions");
  assert.deepEqual(JSON.parse(JSON.stringify(body)), {
    model: "qwen",
    messages: [{ role: "user", content: "Hi" }],
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: 8,
    temperature: 0.5,
    seed: 3,
    frequency_penalty: 0.1,
  });
});

test("a completion goes to /v1/completions with its prompt and stop list", () => {
  const request: GenerationRequest = { model: "qwen", input: { kind: "completion", prompt: "Once" }, params: { ...params, stop: ["\n"] } };
  const { url, body } = openaiDialect.generation("http://10.0.0.5:8000/v1", request);
  assert.equal(url.href, "http://10.0.0.5:8000/v1/completions");
  assert.deepEqual((body as { prompt: string; stop: string[] }).prompt, "Once");
  assert.deepEqual((body as { prompt: string; stop: string[] }).stop, ["\n"]);
});

test("stream chunks: chat deltas, completion text, the finish, the usage chunk and [DONE]", () => {
  const parse = (value: unknown) => openaiDialect.parseEvent(JSON.stringify(value));
  assert.deepEqual(parse({ choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] }), {
    ok: true,
    value: { text: "", done: false },
  });
  assert.deepEqual(parse({ choices: [{ index: 0, delta: { content: "Hel" }, finish_reason: null }] }), {
    ok: true,
    value: { text: "Hel", done: false },
  });
  assert.deepEqual(parse({ choices: [{ index: 0, text: "lo", finish_reason: null }] }), { ok: true, value: { text: "lo", done: false } });
  assert.deepEqual(parse({ choices: [{ index: 0, delta: {}, finish_reason: "length" }] }), {
    ok: true,
    value: { text: "", finishReason: "length", done: false },
  });
  assert.deepEqual(parse({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 8, total_tokens: 13 } }), {
    ok: true,
    value: { text: "", usage: { promptTokens: 5, completionTokens: 8 }, done: false },
  });
  assert.deepEqual(openaiDialect.parseEvent("[DONE]"), { ok: true, value: { text: "", done: true } });
});

test("an error in the stream, and a chunk that is not one, are failures", () => {
  assert.deepEqual(openaiDialect.parseEvent('{"error":{"message":"context full","type":"server_error"}}'), { ok: false, error: "context full" });
  assert.deepEqual(openaiDialect.parseEvent('{"error":"overloaded"}'), { ok: false, error: "overloaded" });
  assert.equal(openaiDialect.parseEvent("not json").ok, false);
  assert.equal(openaiDialect.parseEvent('{"choices":[{"delta":{"content":5}}]}').ok, false);
});

test("tools, the choice, the calls in the history and a response format are passed on in OpenAI's shape", () => {
  const request: GenerationRequest = {
    model: "qwen",
    input: {
      kind: "chat",
      messages: [
        { role: "user", content: "Weather?" },
        { role: "assistant", content: "", toolCalls: [{ id: "call_1", name: "weather", arguments: '{"city":"Oslo"}' }] },
        { role: "tool", toolCallId: "call_1", content: "cold" },
      ],
      tools: [{ name: "weather", parameters: { type: "object" } }],
      toolChoice: { name: "weather" },
      parallelToolCalls: false,
    },
    params,
  };
  const body = openaiDialect.generation("http://h:8000", request).body as Record<string, unknown>;
  assert.deepEqual(body.messages, [
    { role: "user", content: "Weather?" },
    { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Oslo"}' } }] },
    { role: "tool", tool_call_id: "call_1", content: "cold" },
  ]);
  assert.deepEqual(JSON.parse(JSON.stringify(body.tools)), [{ type: "function", function: { name: "weather", parameters: { type: "object" } } }]);
  assert.deepEqual(body.tool_choice, { type: "function", function: { name: "weather" } });
  assert.equal(body.parallel_tool_calls, false);
  const schema = { type: "object", properties: { a: { type: "integer" } } };
  const formatted = openaiDialect.generation("http://h:8000", { ...request, input: { kind: "chat", messages: [{ role: "user", content: "x" }] }, params: { ...params, responseFormat: { type: "json_schema", name: "s", schema, strict: true } } }).body as Record<string, unknown>;
  assert.deepEqual(formatted.response_format, { type: "json_schema", json_schema: { name: "s", schema, strict: true } });
});

test("streamed tool call pieces are read with their index, id and name; a whole answer's calls in order", () => {
  const first = openaiDialect.parseEvent(JSON.stringify({ choices: [{ delta: { tool_calls: [{ index: 0, id: "call_a", type: "function", function: { name: "weather", arguments: "" } }] } }] }));
  assert.deepEqual(first, { ok: true, value: { text: "", done: false, toolCalls: [{ index: 0, id: "call_a", name: "weather", argumentsDelta: "" }] } });
  const more = openaiDialect.parseEvent(JSON.stringify({ choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] }, finish_reason: null }] }));
  assert.deepEqual(more, { ok: true, value: { text: "", done: false, toolCalls: [{ index: 0, argumentsDelta: '{"ci' }] } });
  const whole = openaiDialect.parseEvent(JSON.stringify({ choices: [{ message: { content: null, tool_calls: [{ id: "c1", function: { name: "a", arguments: "{}" } }, { id: "c2", function: { name: "b", arguments: "{}" } }] }, finish_reason: "tool_calls" }] }));
  assert.ok(whole.ok);
  assert.deepEqual(whole.value.toolCalls?.map((c) => [c.index, c.id, c.name]), [[0, "c1", "a"], [1, "c2", "b"]]);
  assert.equal(whole.value.finishReason, "tool_calls");
});
