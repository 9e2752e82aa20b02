// The InferenceNode contract, as one suite of tests every kind of node must
// pass: the in-process node, an agent over HTTP, agentless OpenAI and Ollama
// servers, and testkit's FakeNode (so unit tests built on the fake test
// against something that behaves like a node). A node kind that passes it
// can sit behind the router and the dispatcher without either knowing which
// kind it is.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import {
  FlotillaError,
  embeddingResultOf,
  generationResultOf,
  type Capability,
  type GenerationRequest,
  type InferenceNode,
  type Workload,
} from "@flotilla/protocol";

export interface NodeUnderTest {
  node: InferenceNode;
  /** The model id the node serves, as a request names it. */
  model: string;
}

export interface ConformanceOptions {
  /** Called once before the suite's tests (start processes, load the model). */
  start(): Promise<NodeUnderTest>;
  stop(): Promise<void>;
  /** Agentless servers report no exact count: their usage may be absent (0). */
  exactUsage: boolean;
  /**
   * Whether a tool call can be required of the node (OpenAI's tool_choice).
   * Ollama's API has no such field: its model decides, so the forced-call
   * test is skipped there. Tested only where the model advertises `tools`.
   */
  forcesToolCalls: boolean;
}

const generation = (model: string, maxTokens: number, kind: "chat" | "completion" = "chat"): GenerationRequest => ({
  model,
  input: kind === "chat" ? { kind: "chat", messages: [{ role: "user", content: "Tell me a story about a cat." }] } : { kind: "completion", prompt: "Once upon a time" },
  params: { maxTokens, temperature: 0, topP: undefined, seed: 1, stop: [], presencePenalty: undefined, frequencyPenalty: undefined },
});

// Strings are bounded: the test model writes stories, and would fill max_tokens with one.
const WEATHER_TOOL = {
  name: "get_weather",
  description: "The weather in a city now",
  parameters: { type: "object", properties: { city: { type: "string", maxLength: 20 } }, required: ["city"], additionalProperties: false },
};
const REVIEW_SCHEMA = { type: "object", properties: { mood: { enum: ["happy", "sad"] }, stars: { type: "integer" } }, required: ["mood", "stars"], additionalProperties: false };

const embedding = (model: string, items: string[]): Workload => ({ model, input: { kind: "embedding", items, dimensions: undefined } });

/** Registers the contract's tests under `name` (call it at a test file's top level). */
export function nodeConformance(name: string, options: ConformanceOptions): void {
  let subject: NodeUnderTest | undefined;
  const get = async (): Promise<NodeUnderTest> => (subject ??= await options.start());
  after(async () => {
    if (subject) await options.stop();
  });

  const advertises = async (capability: Capability): Promise<boolean> => {
    const { node, model } = await get();
    return node.status(Date.now()).models.find((m) => m.id === model)?.capabilities.includes(capability) ?? false;
  };

  test(`${name}: status is ready and advertises the model with chat and embed`, async () => {
    const { node, model } = await get();
    const status = node.status(Date.now());
    assert.equal(status.name, node.name);
    assert.equal(status.health, "ready");
    const served = status.models.find((m) => m.id === model);
    assert.ok(served, `serves ${model}`);
    assert.ok(served.capabilities.includes("chat") && served.capabilities.includes("embed"), served.capabilities.join());
    assert.ok(served.slots.total >= 1);
    assert.ok(served.contextSize >= 64);
  });

  test(`${name}: a generation without a stream ends at max_tokens with finish_reason length`, async () => {
    const { node, model } = await get();
    for (const kind of ["chat", "completion"] as const) {
      const result = generationResultOf(await node.run(generation(model, 6, kind), { signal: AbortSignal.timeout(30_000) }));
      assert.ok(result.text.length > 0, kind);
      assert.equal(result.finishReason, "length", kind);
      if (options.exactUsage) {
        assert.equal(result.completionTokens, 6, kind);
        assert.ok(result.promptTokens > 0, kind);
      }
    }
  });

  test(`${name}: streamed, the text chunks are the answer, in order`, async () => {
    const { node, model } = await get();
    const pieces: string[] = [];
    let tokens = 0;
    const result = generationResultOf(await node.run(generation(model, 12), {
      signal: AbortSignal.timeout(30_000),
      onChunk: (chunk) => {
        assert.equal(chunk.type, "text");
        if (chunk.type !== "text") return;
        pieces.push(chunk.text);
        tokens += chunk.tokens ?? 0;
      },
    }));
    assert.ok(pieces.length > 1, "more than one chunk");
    assert.equal(pieces.join(""), result.text);
    if (options.exactUsage) assert.ok(tokens <= result.completionTokens, "chunks never claim more tokens than were generated");
  });

  test(`${name}: cancelling mid-stream stops the work, frees the node, and the next request is served`, async () => {
    const { node, model } = await get();
    const controller = new AbortController();
    const run = node.run(generation(model, 400), {
      signal: controller.signal,
      onChunk: () => controller.abort(new Error("the client hung up")),
    });
    await assert.rejects(run);
    // The node takes the next request at once and answers it whole.
    const next = generationResultOf(await node.run(generation(model, 3), { signal: AbortSignal.timeout(30_000) }));
    assert.equal(next.finishReason, "length");
    const served = node.status(Date.now()).models.find((m) => m.id === model);
    assert.equal((served?.slots.busy ?? 0) + (served?.slots.queued ?? 0), 0, "no slot is held after both ended");
  });

  test(`${name}: embeddings: same text, same vector; different texts, different vectors; unit length`, async () => {
    const { node, model } = await get();
    const result = embeddingResultOf(await node.run(embedding(model, ["a red ball", "a red ball", "the moon at night"]), { signal: AbortSignal.timeout(30_000) }));
    const [a, b, c] = result.vectors;
    assert.ok(a && b && c);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    for (const v of [a, b, c]) assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-6);
    if (options.exactUsage) assert.ok(result.promptTokens > 0);
  });

  test(`${name}: a required tool call streams as pieces that make the call the result names`, async (t) => {
    if (!options.forcesToolCalls || !(await advertises("tools"))) return t.skip("the node cannot be made to call a tool");
    const { node, model } = await get();
    const request = generation(model, 200);
    const messages = [{ role: "user" as const, content: "What is the weather in Paris?" }];
    request.input = { kind: "chat", messages, tools: [WEATHER_TOOL], toolChoice: { name: WEATHER_TOOL.name } };
    const pieces: string[] = [];
    const heads: { id?: string; name?: string }[] = [];
    const result = generationResultOf(await node.run(request, {
      signal: AbortSignal.timeout(30_000),
      onChunk: (chunk) => {
        if (chunk.type !== "tool_call") return;
        assert.equal(chunk.index, 0);
        pieces.push(chunk.argumentsDelta);
        heads.push({ ...(chunk.id === undefined ? {} : { id: chunk.id }), ...(chunk.name === undefined ? {} : { name: chunk.name }) });
      },
    }));
    assert.equal(result.finishReason, "tool_calls");
    const call = result.toolCalls?.[0];
    assert.ok(call, "the result names the call");
    assert.deepEqual(heads[0], { id: call.id, name: WEATHER_TOOL.name }, "the first piece carries the call's id and name");
    assert.ok(heads.slice(1).every((h) => h.id === undefined), "later pieces only add arguments");
    assert.equal(pieces.join(""), call.arguments);
    const args = JSON.parse(call.arguments) as Record<string, unknown>;
    assert.equal(typeof args.city, "string");
  });

  test(`${name}: output held to a JSON schema parses and fits it`, async (t) => {
    if (!(await advertises("json"))) return t.skip("the node does not advertise json");
    const { node, model } = await get();
    const request = generation(model, 200);
    request.params = { ...request.params, responseFormat: { type: "json_schema", name: "review", schema: REVIEW_SCHEMA } };
    const result = generationResultOf(await node.run(request, { signal: AbortSignal.timeout(30_000) }));
    assert.equal(result.finishReason, "stop");
    const review = JSON.parse(result.text) as Record<string, unknown>;
    assert.ok(review.mood === "happy" || review.mood === "sad", result.text);
    assert.equal(typeof review.stars, "number");
  });

  test(`${name}: a model it does not serve is the request's fault: not retryable, not the node's`, async () => {
    const { node } = await get();
    await assert.rejects(node.run(generation("no-such-model", 3), { signal: AbortSignal.timeout(30_000) }), (err: unknown) => {
      assert.ok(err instanceof FlotillaError, String(err));
      assert.equal(err.retryable, false, err.message);
      assert.equal(err.nodeFault, false, err.message);
      return true;
    });
  });
}
