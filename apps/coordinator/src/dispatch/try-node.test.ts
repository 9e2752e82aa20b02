// One try on one node under its tier's timeouts: the first-token and idle
// limits fail the try with an error that names the node and the limit and
// cancel the node (freeing its slot); the client's own abort goes through as
// the client's reason; the connect limit is handed to the node. The node is
// ScriptedNode, an in-memory test double that plays a script of timed pieces.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import {
  FlotillaError,
  generationResultOf,
  type GenerationRequest,
  type InferenceNode,
  type NodeStatus,
  type RunOptions,
  type Workload,
  type WorkloadResult,
} from "@flotilla/protocol";
import { testNode } from "../router/test-nodes.ts";
import type { TierTimeouts } from "./timeouts.ts";
import { tryNode } from "./try-node.ts";

interface Piece {
  /** Wait before sending this piece. */
  afterMs: number;
  text: string;
}

/**
 * Test double: sends `pieces` after their delays, then waits `thenMs` and
 * finishes. Aborting its signal stops it and rejects like an HTTP client
 * does (with the signal's reason), or with `abortError` when given, standing
 * for a node whose client throws its own error on abort.
 */
class ScriptedNode implements InferenceNode {
  readonly name: string;
  readonly #pieces: readonly Piece[];
  readonly #thenMs: number;
  readonly #abortError: Error | undefined;
  /** The options of the last run() call. */
  options: RunOptions | undefined;

  constructor(name: string, script: { pieces: Piece[]; thenMs?: number; abortError?: Error }) {
    this.name = name;
    this.#pieces = script.pieces;
    this.#thenMs = script.thenMs ?? 0;
    this.#abortError = script.abortError;
  }

  status(): NodeStatus {
    return testNode(this.name);
  }

  async run(_workload: Workload, options: RunOptions): Promise<WorkloadResult> {
    this.options = options;
    const { signal } = options;
    let text = "";
    try {
      for (const piece of this.#pieces) {
        await sleep(piece.afterMs, undefined, { signal });
        text += piece.text;
        options.onChunk?.({ type: "text", text: piece.text });
      }
      await sleep(this.#thenMs, undefined, { signal });
    } catch (err) {
      if (signal.aborted) throw this.#abortError ?? signal.reason;
      throw err;
    }
    return { kind: "generation", text, finishReason: "stop", promptTokens: 3, completionTokens: this.#pieces.length };
  }
}

const generation: GenerationRequest = {
  model: "m",
  input: { kind: "completion", prompt: "Once upon" },
  params: { maxTokens: 32, temperature: undefined, topP: undefined, seed: undefined, stop: [], presencePenalty: undefined, frequencyPenalty: undefined },
};

const timeouts = (overrides: Partial<TierTimeouts> = {}): TierTimeouts => ({ connectMs: 1_000, firstTokenMs: 30, idleMs: 30, ...overrides });

test("a node that sends no text within firstTokenMs fails with a timeout naming it, and is cancelled", async () => {
  const node = new ScriptedNode("gpu-box", { pieces: [{ afterMs: 5_000, text: "late" }], abortError: new Error("socket closed") });
  const texts: string[] = [];
  const started = Date.now();
  await assert.rejects(
    tryNode(node, generation, { signal: new AbortController().signal, timeouts: timeouts({ firstTokenMs: 30 }), onChunk: (c) => texts.push(c.type === "text" ? c.text : "") }),
    (err: unknown) => {
      assert.ok(err instanceof FlotillaError, "the limit is the reason, not what the node threw on abort");
      assert.equal(err.code, "backend_error");
      assert.equal(err.retryable, true);
      assert.match(err.message, /node gpu-box sent no text in time/);
      assert.match(err.message, /timeout 0\.0 s/);
      return true;
    },
  );
  assert.ok(Date.now() - started < 2_000, "it did not wait for the node");
  assert.deepEqual(texts, []);
  assert.equal(node.options?.signal.aborted, true, "the node's request is cancelled, which frees its slot");
});

test("a node that stalls between two pieces fails with the idle timeout after the text it sent", async () => {
  const node = new ScriptedNode("slow-box", { pieces: [{ afterMs: 5, text: "Once" }, { afterMs: 5_000, text: " more" }] });
  const texts: string[] = [];
  await assert.rejects(
    tryNode(node, generation, { signal: new AbortController().signal, timeouts: timeouts({ firstTokenMs: 1_000, idleMs: 30 }), onChunk: (c) => texts.push(c.type === "text" ? c.text : "") }),
    (err: unknown) => {
      assert.ok(err instanceof FlotillaError);
      assert.match(err.message, /node slow-box stalled between two chunks/);
      assert.match(err.message, /timeout/);
      return true;
    },
  );
  assert.deepEqual(texts, ["Once"], "the text before the stall reached the client");
  assert.equal(node.options?.signal.aborted, true);
});

test("a steady stream outlasting firstTokenMs succeeds: each piece re-arms the idle limit", async () => {
  const pieces = Array.from({ length: 8 }, (_, i) => ({ afterMs: 10, text: `${i}` }));
  const node = new ScriptedNode("steady", { pieces });
  const texts: string[] = [];
  const result = await tryNode(node, generation, {
    signal: new AbortController().signal,
    timeouts: timeouts({ firstTokenMs: 60, idleMs: 60 }),
    onChunk: (c) => texts.push(c.type === "text" ? c.text : ""),
  });
  assert.equal(generationResultOf(result).text, "01234567");
  assert.deepEqual(texts, ["0", "1", "2", "3", "4", "5", "6", "7"]);
  assert.equal(node.options?.signal.aborted, false, "a finished try is not cancelled");
});

test("the client's abort cancels the node and fails with the client's reason, not a timeout", async () => {
  const node = new ScriptedNode("gpu-box", { pieces: [{ afterMs: 5, text: "Hi" }, { afterMs: 5_000, text: "!" }] });
  const client = new AbortController();
  const reason = new Error("client disconnected");
  const trying = tryNode(node, generation, {
    signal: client.signal,
    timeouts: timeouts({ firstTokenMs: 1_000, idleMs: 1_000 }),
    onChunk: () => client.abort(reason),
  });
  await assert.rejects(trying, (err: unknown) => {
    assert.equal(err, reason);
    return true;
  });
  assert.equal(node.options?.signal.aborted, true);
});

test("the tier's connect limit is passed to the node", async () => {
  const node = new ScriptedNode("gpu-box", { pieces: [{ afterMs: 0, text: "ok" }] });
  await tryNode(node, generation, { signal: new AbortController().signal, timeouts: timeouts({ connectMs: 1_234 }), onChunk: () => {} });
  assert.equal(node.options?.connectTimeoutMs, 1_234);
});
