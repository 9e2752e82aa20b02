import { test } from "node:test";
import assert from "node:assert/strict";
import type { EmbeddingRequest, GenerationRequest, RunOptions, WorkloadResult } from "@flotilla/protocol";
import { Ewma, LatencyTracker, timeWorkload } from "./latency.ts";

const result: WorkloadResult = { kind: "generation", text: "ab", finishReason: "stop", promptTokens: 1, completionTokens: 2 };
const workload: GenerationRequest = {
  model: "m",
  input: { kind: "completion", prompt: "Once" },
  params: { maxTokens: 2, temperature: undefined, topP: undefined, seed: undefined, stop: [], presencePenalty: undefined, frequencyPenalty: undefined },
};

/** A clock that only moves when the test says so. */
function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

test("the first sample initialises the average; later ones move it by alpha", () => {
  const ewma = new Ewma(0.3);
  assert.equal(ewma.value, null);
  ewma.add(100);
  assert.equal(ewma.value, 100);
  ewma.add(200);
  assert.equal(ewma.value, 130);
  assert.throws(() => new Ewma(0), RangeError);
  assert.throws(() => new Ewma(1.5), RangeError);
});

test("a tracker with no samples reports nulls", () => {
  assert.deepEqual(new LatencyTracker().snapshot(), { firstTokenMs: null, totalMs: null, samples: 0 });
});

test("first token and total are averaged separately and counted", () => {
  const tracker = new LatencyTracker(0.3);
  tracker.record({ firstTokenMs: 100, totalMs: 1_000 });
  tracker.record({ firstTokenMs: 200, totalMs: 2_000 });
  assert.deepEqual(tracker.snapshot(), { firstTokenMs: 130, totalMs: 1_300, samples: 2 });
});

test("nonsense samples are dropped, and a first token never exceeds its total", () => {
  const tracker = new LatencyTracker();
  tracker.record({ firstTokenMs: -1, totalMs: 10 });
  tracker.record({ firstTokenMs: 5, totalMs: Number.NaN });
  assert.equal(tracker.snapshot().samples, 0);
  tracker.record({ firstTokenMs: 50, totalMs: 40 });
  assert.deepEqual(tracker.snapshot(), { firstTokenMs: 40, totalMs: 40, samples: 1 });
});

test("snapshots round to a tenth of a millisecond", () => {
  const tracker = new LatencyTracker();
  tracker.record({ firstTokenMs: 1.23456, totalMs: 9.87654 });
  assert.deepEqual(tracker.snapshot(), { firstTokenMs: 1.2, totalMs: 9.9, samples: 1 });
});

test("probe round trips appear only once one is recorded", () => {
  const tracker = new LatencyTracker(0.5);
  assert.equal("probeMs" in tracker.snapshot(), false);
  tracker.recordProbe(10);
  tracker.recordProbe(20);
  assert.deepEqual(tracker.snapshot(), { firstTokenMs: null, totalMs: null, samples: 0, probeMs: 15 });
});

test("timeWorkload: first token at the first chunk, total at the result, and the caller's onChunk still called", async () => {
  const tracker = new LatencyTracker();
  const clock = fakeClock();
  const seen: string[] = [];
  const options: RunOptions = { signal: new AbortController().signal, onChunk: (c) => seen.push(c.type === "text" ? c.text : "") };
  const out = await timeWorkload(
    tracker,
    workload,
    options,
    (timed) => {
      clock.advance(120);
      timed.onChunk?.({ type: "text", text: "a" });
      clock.advance(300);
      timed.onChunk?.({ type: "text", text: "b" });
      clock.advance(430);
      return Promise.resolve(result);
    },
    clock.now,
  );
  assert.equal(out, result);
  assert.deepEqual(seen, ["a", "b"]);
  assert.deepEqual(tracker.snapshot(), { firstTokenMs: 120, totalMs: 850, samples: 1 });
});

test("timeWorkload: a non-streaming caller is still timed to its first token", async () => {
  const tracker = new LatencyTracker();
  const clock = fakeClock();
  await timeWorkload(
    tracker,
    workload,
    { signal: new AbortController().signal },
    (timed) => {
      clock.advance(40);
      timed.onChunk?.({ type: "text", text: "a" });
      clock.advance(60);
      return Promise.resolve(result);
    },
    clock.now,
  );
  assert.deepEqual(tracker.snapshot(), { firstTokenMs: 40, totalMs: 100, samples: 1 });
});

test("timeWorkload: with no chunk before the result, the first token is the result", async () => {
  const tracker = new LatencyTracker();
  const clock = fakeClock();
  await timeWorkload(
    tracker,
    workload,
    { signal: new AbortController().signal },
    () => {
      clock.advance(75);
      return Promise.resolve(result);
    },
    clock.now,
  );
  assert.deepEqual(tracker.snapshot(), { firstTokenMs: 75, totalMs: 75, samples: 1 });
});

test("timeWorkload: failures and aborted requests are not latencies", async () => {
  const tracker = new LatencyTracker();
  const failure = new Error("node failed");
  await assert.rejects(
    timeWorkload(tracker, workload, { signal: new AbortController().signal }, () => Promise.reject(failure)),
    (err) => err === failure,
  );
  // An aborted generation may still resolve (the agent returns what it had).
  const hangUp = new AbortController();
  await timeWorkload(tracker, workload, { signal: hangUp.signal }, () => {
    hangUp.abort();
    return Promise.resolve({ ...result, finishReason: "length" as const });
  });
  assert.deepEqual(tracker.snapshot(), { firstTokenMs: null, totalMs: null, samples: 0 });
});

test("timeWorkload: embeddings are not timed: they say nothing of how soon a node starts answering", async () => {
  const tracker = new LatencyTracker();
  const embedding: EmbeddingRequest = { model: "m", input: { kind: "embedding", items: ["a"], dimensions: undefined } };
  const out = await timeWorkload(tracker, embedding, { signal: new AbortController().signal }, () =>
    Promise.resolve({ kind: "embedding", vectors: [[1]], promptTokens: 1 }),
  );
  assert.equal(out.kind, "embedding");
  assert.equal(tracker.snapshot().samples, 0);
});
