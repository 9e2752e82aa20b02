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
}

const generation = (model: string, maxTokens: number, kind: "chat" | "completion" = "chat"): GenerationRequest => ({
  model,
  input: kind === "chat" ? { kind: "chat", messages: [{ role: "user", content: "Tell me a story about a cat." }] } : { kind: "completion", prompt: "Once upon a time" },
  params: { maxTokens, temperature: 0, topP: undefined, seed: 1, stop: [], presencePenalty: undefined, frequencyPenalty: undefined },
});

const embedding = (model: string, items: string[]): Workload => ({ model, input: { kind: "embedding", items, dimensions: undefined } });

/** Registers the contract's tests under `name` (call it at a test file's top level). */
export function nodeConformance(name: string, options: ConformanceOptions): void {
  let subject: NodeUnderTest | undefined;
  const get = async (): Promise<NodeUnderTest> => (subject ??= await options.start());
  after(async () => {
    if (subject) await options.stop();
  });

  test(`${name}: status is ready and advertises the model with chat and embed`, async () => {
    const { node, model } = await get();
    const status = node.status(Date.now());
    assert.equal(status.name, node.name);
    assert.equal(status.health, "ready");
    const served = status.models.find((m) => m.id === model);
    assert.ok(served, `serves ${model}`);
    assert.deepEqual([...served.capabilities].sort(), ["chat", "embed"]);
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
