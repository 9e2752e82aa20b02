import assert from "node:assert/strict";
import test from "node:test";
import { FlotillaError, type GenerationRequest } from "@flotilla/protocol";
import { planOutput } from "./output-plan.ts";

const params = { stop: [] };
const chat = (extra: Partial<Extract<GenerationRequest["input"], { kind: "chat" }>> = {}, more: Partial<GenerationRequest["params"]> = {}): GenerationRequest => ({
  model: "m",
  input: { kind: "chat", messages: [{ role: "user", content: "hi" }], ...extra },
  params: { ...params, ...more },
});
const weather = { name: "weather", parameters: { type: "object", properties: { city: { type: "string" } } } };
const time = { name: "time" };

test("no tools and no format: free text; a format: JSON, to its schema when it has one", () => {
  assert.deepEqual(planOutput(chat()), { kind: "text" });
  assert.equal(planOutput(chat({}, { responseFormat: { type: "json" } })).kind, "json");
  const schema = planOutput(chat({}, { responseFormat: { type: "json_schema", name: "s", schema: { type: "integer" } } }));
  assert.deepEqual(schema, { kind: "json", schema: { type: "integer" } });
});

test("tools: auto lets the model decide, none is plain text, and parallel_tool_calls false allows one call", () => {
  const auto = planOutput(chat({ tools: [weather] }));
  assert.equal(auto.kind, "may-call");
  assert.equal(auto.kind === "may-call" && auto.maxParallel, undefined);
  const one = planOutput(chat({ tools: [weather], parallelToolCalls: false }));
  assert.equal(one.kind === "may-call" && one.maxParallel, 1);
  assert.deepEqual(planOutput(chat({ tools: [weather], toolChoice: "none" })), { kind: "text" });
});

test("a required call: the named function's arguments, the only tool's, or one of several by name", () => {
  const named = planOutput(chat({ tools: [weather, time], toolChoice: { name: "weather" } }));
  assert.ok(named.kind === "must-call" && named.call.kind === "named" && named.call.name === "weather");
  const only = planOutput(chat({ tools: [weather], toolChoice: "required" }));
  assert.ok(only.kind === "must-call" && only.call.kind === "named");
  const either = planOutput(chat({ tools: [weather, time], toolChoice: "required" }));
  assert.ok(either.kind === "must-call" && either.call.kind === "one-of");
  assert.deepEqual(
    (JSON.parse(JSON.stringify(either.call.schema)) as { oneOf: { properties: { name: unknown } }[] }).oneOf.map((o) => o.properties.name),
    [{ const: "weather" }, { const: "time" }],
  );
});

test("refused before a slot is taken: a format with tools, an unknown named tool, an uncompilable schema", () => {
  const refusal = (request: GenerationRequest) => {
    try {
      planOutput(request);
    } catch (err) {
      assert.ok(err instanceof FlotillaError);
      return err.param;
    }
    assert.fail("expected a refusal");
  };
  assert.equal(refusal(chat({ tools: [weather] }, { responseFormat: { type: "json" } })), "response_format");
  assert.equal(refusal(chat({ tools: [weather], toolChoice: { name: "nope" } })), "tool_choice");
  assert.equal(refusal(chat({ tools: [{ name: "f", parameters: { type: "object", properties: { a: { pattern: "x" } } } }] })), "tools[0].function.parameters.properties.a.pattern");
});
