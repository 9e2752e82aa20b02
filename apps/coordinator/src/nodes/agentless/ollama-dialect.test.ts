import { test } from "node:test";
import assert from "node:assert/strict";
import type { GenerationRequest } from "@flotilla/protocol";
import { ollamaDialect } from "./ollama-dialect.ts";

const params = { maxTokens: 8, temperature: 0, topP: 0.9, seed: 1, stop: ["END"], presencePenalty: undefined, frequencyPenalty: undefined };

test("/api/tags: the pulled models by name", () => {
  assert.equal(ollamaDialect.healthUrl("http://10.0.0.7:11434").href, "http://10.0.0.7:11434/api/tags");
  const tags = { models: [{ name: "llama3:latest", model: "llama3:latest", size: 1, details: {} }, { name: "qwen2.5:7b" }] };
  assert.deepEqual(ollamaDialect.parseModels(tags), { ok: true, value: [{ id: "llama3:latest" }, { id: "qwen2.5:7b" }] });
  assert.equal(ollamaDialect.parseModels({ data: [] }).ok, false);
});

test("chat goes to /api/chat with sampling in options", () => {
  const request: GenerationRequest = { model: "llama3", input: { kind: "chat", messages: [{ role: "user", content: "Hi" }] }, params };
  const { url, body } = ollamaDialect.generation("http://box.lan/ollama", request);
  assert.equal(url.href, "http://box.lan/ollama/api/chat");
  assert.deepEqual(JSON.parse(JSON.stringify(body)), {
    model: "llama3",
    messages: [{ role: "user", content: "Hi" }],
    stream: true,
    options: { num_predict: 8, temperature: 0, top_p: 0.9, seed: 1, stop: ["END"] },
  });
});

test("a completion goes to /api/generate raw, so no chat template wraps the prompt", () => {
  const request: GenerationRequest = { model: "llama3", input: { kind: "completion", prompt: "Once" }, params: { ...params, stop: [] } };
  const { url, body } = ollamaDialect.generation("http://10.0.0.7:11434", request);
  assert.equal(url.href, "http://10.0.0.7:11434/api/generate");
  assert.deepEqual(JSON.parse(JSON.stringify(body)), {
    model: "llama3",
    prompt: "Once",
    raw: true,
    stream: true,
    options: { num_predict: 8, temperature: 0, top_p: 0.9, seed: 1 },
  });
});

test("stream lines: text from chat and generate, then the done line with its counts", () => {
  assert.deepEqual(ollamaDialect.parseEvent('{"model":"m","message":{"role":"assistant","content":"Hi"},"done":false}'), {
    ok: true,
    value: { text: "Hi", done: false },
  });
  assert.deepEqual(ollamaDialect.parseEvent('{"model":"m","response":" there","done":false}'), { ok: true, value: { text: " there", done: false } });
  assert.deepEqual(
    ollamaDialect.parseEvent('{"model":"m","response":"","done":true,"done_reason":"length","prompt_eval_count":4,"eval_count":8}'),
    { ok: true, value: { text: "", done: true, finishReason: "length", usage: { promptTokens: 4, completionTokens: 8 } } },
  );
});

test("a cached prompt has no prompt_eval_count: counted as 0", () => {
  const parsed = ollamaDialect.parseEvent('{"done":true,"done_reason":"stop","eval_count":3}');
  assert.deepEqual(parsed, { ok: true, value: { text: "", done: true, finishReason: "stop", usage: { promptTokens: 0, completionTokens: 3 } } });
});

test("an error line is a failure", () => {
  assert.deepEqual(ollamaDialect.parseEvent('{"error":"model \\"x\\" not found"}'), { ok: false, error: 'model "x" not found' });
  assert.equal(ollamaDialect.parseEvent("{oops").ok, false);
});

test("tools and format go to Ollama in its shape; calls in the history carry objects and results name their function", () => {
  const request: GenerationRequest = {
    model: "llama3",
    input: {
      kind: "chat",
      messages: [
        { role: "user", content: "Weather?" },
        { role: "assistant", content: "", toolCalls: [{ id: "call_1", name: "weather", arguments: '{"city":"Oslo"}' }] },
        { role: "tool", toolCallId: "call_1", content: "cold" },
      ],
      tools: [{ name: "weather", description: "now", parameters: { type: "object" } }],
    },
    params: { ...params, topK: 40, responseFormat: { type: "json" } },
  };
  const body = ollamaDialect.generation("http://box:11434", request).body as Record<string, unknown>;
  assert.deepEqual(body.messages, [
    { role: "user", content: "Weather?" },
    { role: "assistant", content: "", tool_calls: [{ function: { name: "weather", arguments: { city: "Oslo" } } }] },
    { role: "tool", content: "cold", tool_name: "weather" },
  ]);
  assert.deepEqual(body.tools, [{ type: "function", function: { name: "weather", description: "now", parameters: { type: "object" } } }]);
  assert.equal(body.format, "json");
  assert.equal((body.options as Record<string, unknown>).top_k, 40);
  const none = ollamaDialect.generation("http://box:11434", { ...request, input: { ...request.input, toolChoice: "none" } as GenerationRequest["input"] }).body as Record<string, unknown>;
  assert.equal(none.tools, undefined, "tools the model may not call are not offered");
});

test("Ollama's whole tool calls are read as new calls with ids of flotilla's own", () => {
  const line = { model: "llama3", message: { role: "assistant", content: "", tool_calls: [{ function: { name: "weather", arguments: { city: "Oslo" } } }] }, done: false };
  const parsed = ollamaDialect.parseEvent(JSON.stringify(line));
  assert.ok(parsed.ok);
  const call = parsed.value.toolCalls?.[0];
  assert.equal(call?.index, undefined, "numbered by the order they arrive in");
  assert.match(call?.id ?? "", /^call_/);
  assert.equal(call?.name, "weather");
  assert.deepEqual(JSON.parse(call?.argumentsDelta ?? ""), { city: "Oslo" });
});

test("/api/tags: a model's details are read where Ollama gives them, and an odd field costs the detail, not the model", () => {
  const digest = "a".repeat(64);
  const tags = {
    models: [
      {
        name: "qwen2.5:7b",
        model: "qwen2.5:7b",
        modified_at: "2026-11-30T10:00:00.5+01:00",
        size: 4_683_087_332,
        digest,
        details: { parent_model: "", format: "gguf", family: "qwen2", families: ["qwen2"], parameter_size: "7.6B", quantization_level: "Q4_K_M" },
      },
      { name: "hashing", digest: "", details: { family: "llama" } },
      { name: "odd", size: "big", digest: "sha256:nothex", details: { family: 7 } },
    ],
  };
  const parsed = ollamaDialect.parseModels(tags);
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value, [
    {
      id: "qwen2.5:7b",
      details: {
        format: "gguf",
        family: "qwen2",
        families: ["qwen2"],
        parameterSize: "7.6B",
        quantizationLevel: "Q4_K_M",
        sizeBytes: 4_683_087_332,
        digest,
        modifiedAtMs: Date.parse("2026-11-30T09:00:00.5Z"),
      },
    },
    { id: "hashing", details: { format: "gguf", family: "llama", families: ["llama"] } },
    { id: "odd" },
  ]);
});
