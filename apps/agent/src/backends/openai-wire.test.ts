// The mapping of workloads to a program's OpenAI requests, and of its answers back: what the
// process-serve test on the fixture server does not reach.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FlotillaError, type GenerationRequest } from "@flotilla/protocol";
import { generationCall, parseStreamEvent, refusal, streamError } from "./openai-wire.ts";

const withTools = (toolChoice?: "none" | "auto"): GenerationRequest => ({
  model: "m",
  input: { kind: "chat", messages: [{ role: "user", content: "x" }], tools: [{ name: "f" }], ...(toolChoice === undefined ? {} : { toolChoice }) },
  params: { stop: [] },
});

test("tools, tool choice and earlier calls are passed on in OpenAI's shape", () => {
  const request: GenerationRequest = {
    ...withTools("auto"),
    input: {
      kind: "chat",
      messages: [
        { role: "user", content: "x" },
        { role: "assistant", content: "", toolCalls: [{ id: "c1", name: "f", arguments: "{}" }] },
        { role: "tool", toolCallId: "c1", content: "42" },
      ],
      tools: [{ name: "f", description: "does f" }],
      toolChoice: "required",
      parallelToolCalls: false,
    },
  };
  const { body } = generationCall("up", request);
  assert.deepEqual(body.tools, [{ type: "function", function: { name: "f", description: "does f", parameters: { type: "object" } } }]);
  assert.equal(body.tool_choice, "required");
  assert.equal(body.parallel_tool_calls, false);
  assert.deepEqual(body.messages, [
    { role: "user", content: "x" },
    { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }] },
    { role: "tool", tool_call_id: "c1", content: "42" },
  ]);
  assert.equal(generationCall("up", withTools()).body.tool_choice, undefined);
});

test("a json_schema response format is passed on as OpenAI's; on a text completion it is refused", () => {
  const schema = { type: "object" };
  const chat: GenerationRequest = { model: "m", input: { kind: "chat", messages: [{ role: "user", content: "x" }] }, params: { stop: [], responseFormat: { type: "json_schema", name: "s", schema, strict: true } } };
  assert.deepEqual(generationCall("up", chat).body.response_format, { type: "json_schema", json_schema: { name: "s", schema, strict: true } });
  const completion: GenerationRequest = { model: "m", input: { kind: "completion", prompt: "x" }, params: { stop: [], responseFormat: { type: "json" } } };
  assert.throws(() => generationCall("up", completion), (err) => err instanceof FlotillaError && err.code === "unsupported_parameter");
});

test("stream events: text, finish reasons, usage, [DONE], and errors", () => {
  assert.deepEqual(parseStreamEvent('{"choices":[{"delta":{"content":"hi"},"finish_reason":null}]}'), { text: "hi", done: false });
  assert.deepEqual(parseStreamEvent('{"choices":[{"delta":{},"finish_reason":"length"}]}'), { text: "", finishReason: "length", done: false });
  assert.deepEqual(parseStreamEvent('{"choices":[{"text":"x","finish_reason":"eos"}]}'), { text: "x", finishReason: "stop", done: false });
  assert.deepEqual(parseStreamEvent('{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}'), { text: "", usage: { promptTokens: 3, completionTokens: 2 }, done: false });
  assert.deepEqual(parseStreamEvent("[DONE]"), { text: "", done: true });
  assert.deepEqual(parseStreamEvent('{"choices":[{"message":{"tool_calls":[{"id":"c","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}'), {
    text: "",
    toolCalls: [{ index: 0, id: "c", name: "f", argumentsDelta: "{}" }],
    finishReason: "tool_calls",
    done: false,
  });
  assert.throws(() => parseStreamEvent('{"error":{"message":"oom"}}'), /the program failed: oom/);
  assert.throws(() => parseStreamEvent("not json"), (err) => err instanceof FlotillaError && err.code === "backend_error");
  assert.match(streamError('{"code":500,"message":"slot died"}').message, /slot died/);
});

test("refusals: busy, the request's fault (its message passed on), a context too long, the program's fault", () => {
  const busy = refusal(503, "", "5");
  assert.equal(busy.code, "server_busy");
  assert.equal(busy.retryAfterS, 5);
  const bad = refusal(422, '{"error":{"message":"bad temperature"}}', null);
  assert.deepEqual([bad.code, bad.status, bad.message], ["rejected_by_node", 422, "bad temperature"]);
  assert.equal(refusal(400, '{"error":"the request exceeds the available context size"}', null).code, "context_length_exceeded");
  assert.equal(refusal(404, "<html>", null).message, "the program refused the request (HTTP 404)");
  assert.equal(refusal(500, "", null).code, "backend_error");
});
