// The dispatcher's decisions, with the real router, circuits, budget and
// queue around nodes that are PlayedNode test doubles: each plays a script
// (text pieces, then a result or a failure), so every failure mode can be
// produced on demand. Real agents failing for real: tests/e2e/failover.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  FlotillaError,
  generationResultOf,
  isGeneration,
  type GenerationRequest,
  type InferenceNode,
  type NodeStatus,
  type RunOptions,
  type Workload,
  type WorkloadResult,
} from "@flotilla/protocol";
import { NodeRegistry } from "../nodes/node-registry.ts";
import { Router } from "../router/router.ts";
import { testNode } from "../router/test-nodes.ts";
import { BusyQueue } from "./busy-queue.ts";
import { CircuitBook } from "./circuit-breaker.ts";
import { Dispatcher } from "./dispatcher.ts";
import { silentObserver, type DispatchObserver, type RequestOutcome } from "./observer.ts";
import { RetryBudget } from "./retry-budget.ts";
import { timeoutPolicy } from "./timeouts.ts";
import type { DispatchRequest } from "./types.ts";

type Ending = { fail: FlotillaError } | { finish: "stop" | "length" } | "hang";

/** Test double: sends `pieces`, then ends as told; records what it was asked. */
class PlayedNode implements InferenceNode {
  readonly name: string;
  pieces: string[] = [];
  ending: Ending = { finish: "stop" };
  slots = 4;
  readonly asked: GenerationRequest[] = [];
  constructor(name: string) {
    this.name = name;
  }
  status(): NodeStatus {
    return testNode(this.name, { tier: 0, slots: this.slots });
  }
  async run(workload: Workload, options: RunOptions): Promise<WorkloadResult> {
    assert.ok(isGeneration(workload));
    this.asked.push(workload);
    for (const piece of this.pieces) {
      await Promise.resolve();
      // One token a piece, as the node says.
      options.onChunk?.({ type: "text", text: piece, tokens: 1 });
    }
    const ending = this.ending;
    if (ending === "hang") {
      return new Promise((_, reject) => options.signal.addEventListener("abort", () => reject(options.signal.reason as Error)));
    }
    if ("fail" in ending) throw ending.fail;
    return { kind: "generation", text: this.pieces.join(""), finishReason: ending.finish, promptTokens: 5, completionTokens: this.pieces.length };
  }
}

const request = (overrides: Partial<DispatchRequest> = {}): DispatchRequest => ({
  workload: {
    model: "m",
    input: { kind: "chat", messages: [{ role: "user", content: "Tell me a story" }] },
    params: { maxTokens: 100, temperature: 0, topP: undefined, seed: undefined, stop: [], presencePenalty: undefined, frequencyPenalty: undefined },
  },
  hints: {},
  priority: "normal",
  continueOnFailure: false,
  signal: new AbortController().signal,
  ...overrides,
});

function cluster(names: string[], options: { budget?: RetryBudget; observer?: DispatchObserver; queueDepth?: number } = {}) {
  const registry = new NodeRegistry();
  const nodes = names.map((n) => new PlayedNode(n));
  for (const node of nodes) registry.add(node);
  const circuits = new CircuitBook({ failuresToOpen: 1, baseEjectionMs: 60_000, maxEjectionMs: 60_000, jitter: 0 });
  const queue = new BusyQueue({ maxDepth: options.queueDepth ?? 8, maxWaitMs: 2_000, recheckMs: 1_000 }, Date.now);
  const router = new Router(registry, { nowMs: Date.now, circuits, onRelease: () => queue.offer(), snapshotMaxAgeMs: 0 });
  const dispatcher = new Dispatcher({
    registry,
    router,
    circuits,
    budget: options.budget ?? new RetryBudget({ ratio: 1, minPerSecond: 100, windowMs: 10_000 }),
    queue,
    timeouts: timeoutPolicy({ 0: { connectMs: 1_000, firstTokenMs: 200, idleMs: 200 } }),
    observer: options.observer ?? silentObserver,
    nowMs: Date.now,
  });
  return { nodes, circuits, router, dispatcher };
}

const broken = () => ({ fail: new FlotillaError("backend_error", "node died") });

test("a node failing before any text: the request is answered by another node, and the failed one's circuit opens", async () => {
  const { nodes, dispatcher, circuits, router } = cluster(["a", "b"]);
  const [a, b] = nodes as [PlayedNode, PlayedNode];
  a.pieces = ["Once"];
  a.ending = broken();
  b.pieces = ["Once", " upon"];
  const busyB = router.dispatched("b", undefined); // b looks busier, so a is tried first
  // Without a stream, a's half answer never reaches the client.
  for (let i = 0; i < 3; i++) {
    const answer = await dispatcher.run(request());
    assert.equal(generationResultOf(answer.result).text, "Once upon");
    assert.equal(answer.decision.node, "b", "the answer names the node that gave it");
    assert.deepEqual(answer.nodes, ["b"]);
    assert.equal(answer.failedTries, i === 0 ? 1 : 0);
  }
  busyB();
  assert.equal(circuits.view("a", Date.now()).state, "open");
  assert.equal(a.asked.length, 1, "once open, a is not tried again");
});

test("a request's own fault (4xx) is not retried and does not count against the node", async () => {
  const { nodes, dispatcher, circuits } = cluster(["a", "b"]);
  for (const n of nodes) n.ending = { fail: new FlotillaError("context_length_exceeded", "too long") };
  await assert.rejects(dispatcher.run(request()), { code: "context_length_exceeded" });
  assert.equal(nodes.reduce((sum, n) => sum + n.asked.length, 0), 1);
  for (const n of nodes) assert.equal(circuits.view(n.name, Date.now()).state, "closed");
});

test("when every node fails, the last failure is the answer; the retry budget bounds the tries", async () => {
  const { nodes, dispatcher } = cluster(["a", "b", "c"], { budget: new RetryBudget({ ratio: 0, minPerSecond: 0.1, windowMs: 10_000 }) });
  for (const n of nodes) n.ending = broken();
  await assert.rejects(dispatcher.run(request()), (err: FlotillaError) => err.code === "backend_error" && /retry budget/.test(err.message));
  assert.equal(nodes.reduce((sum, n) => sum + n.asked.length, 0), 2, "one try and the one retry the budget allowed");
});

test("a stream whose node fails after text: an error without continue_on_failure, a seamless resume with it", async () => {
  for (const resume of [false, true]) {
    const outcomes: RequestOutcome[] = [];
    const { nodes, dispatcher, router } = cluster(["a", "b"], { observer: { ...silentObserver, finished: (o) => outcomes.push(o) } });
    const [a, b] = nodes as [PlayedNode, PlayedNode];
    a.pieces = ["Once", " upon"];
    a.ending = broken();
    b.pieces = [" a", " time"];
    const busyB = router.dispatched("b", undefined); // a is tried first
    const streamed: string[] = [];
    const run = dispatcher.run(request({ continueOnFailure: resume, onChunk: (c) => streamed.push(c.type === "text" ? c.text : "") }));
    if (!resume) {
      await assert.rejects(run, { code: "backend_error" });
      busyB();
      assert.deepEqual(streamed, ["Once", " upon"], "nothing is repeated or invented");
      assert.equal(b.asked.length, 0, "text reached the client: no retry from scratch");
      assert.equal(outcomes[0]?.outcome, "error");
      continue;
    }
    const answer = await run;
    busyB();
    assert.equal(answer.resumed, true);
    assert.deepEqual(answer.nodes, ["a", "b"]);
    assert.equal(answer.decision.node, "a", "the head named the node that began the answer");
    assert.equal(generationResultOf(answer.result).text, "Once upon a time");
    assert.deepEqual(streamed, ["Once", " upon", " a", " time"]);
    const continued = b.asked[0];
    assert.ok(continued?.input.kind === "chat");
    assert.deepEqual(continued.input.messages.at(-1), { role: "assistant", content: "Once upon" }, "b continues the sent text");
    assert.equal(outcomes[0]?.outcome, "ok");
    assert.equal(outcomes[0]?.failedTries, 1);
  }
});

test("a node that sends nothing is abandoned at the first-token timeout and the request goes elsewhere", async () => {
  const { nodes, dispatcher, router } = cluster(["a", "b"]);
  const [a, b] = nodes as [PlayedNode, PlayedNode];
  a.ending = "hang";
  b.pieces = ["hi"];
  const busyB = router.dispatched("b", undefined); // a is tried first
  const answer = await dispatcher.run(request({ onChunk: () => {} }));
  busyB();
  assert.equal(generationResultOf(answer.result).text, "hi");
  assert.deepEqual(answer.nodes, ["b"]);
  assert.equal(a.asked.length, 1, "a was tried, and given up on");
});

test("when every node is full the request waits in the queue and goes as soon as a slot frees", async () => {
  const { nodes, dispatcher, router } = cluster(["a"]);
  const [a] = nodes as [PlayedNode];
  a.slots = 1;
  a.pieces = ["hi"];
  const release = router.dispatched("a", undefined); // someone else holds the only slot
  let done = false;
  const waiting = dispatcher.run(request()).then((answer) => {
    done = true;
    return answer;
  });
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(done, false, "it waits while the slot is taken");
  assert.equal(a.asked.length, 0, "and the node is not sent more than its slots");
  release();
  assert.equal(generationResultOf((await waiting).result).text, "hi");
});

test("a full queue refuses at once with 503 server_busy", async () => {
  const { nodes, dispatcher, router } = cluster(["a"], { queueDepth: 0 + 1 });
  (nodes[0] as PlayedNode).slots = 1;
  const release = router.dispatched("a", undefined);
  const controller = new AbortController();
  const first = dispatcher.run(request({ signal: controller.signal }));
  await assert.rejects(dispatcher.run(request()), (err: FlotillaError) => err.code === "server_busy" && err.retryAfterS === 1);
  controller.abort(new Error("client gone"));
  await assert.rejects(first, /client gone/);
  release();
});

test("a busy node (its 429/503) is tried elsewhere, does not count against its circuit, and gets nothing until its Retry-After", async () => {
  const { nodes, dispatcher, circuits, router } = cluster(["a", "b"]);
  const [a, b] = nodes as [PlayedNode, PlayedNode];
  a.ending = { fail: new FlotillaError("server_busy", "node a answered HTTP 429", { retryAfterS: 30 }) };
  b.pieces = ["hi"];
  const busyB = router.dispatched("b", undefined); // a is tried first
  const answer = await dispatcher.run(request());
  busyB();
  assert.equal(generationResultOf(answer.result).text, "hi");
  assert.equal(answer.failedTries, 1);
  const view = circuits.view("a", Date.now());
  assert.equal(view.consecutiveFailures, 0, "busy is not a failure");
  assert.equal(view.pausedByNode, true);
  assert.ok(view.ejectionLeftMs > 29_000 && view.ejectionLeftMs <= 30_000, `paused for its Retry-After (${view.ejectionLeftMs} ms left)`);
  // b is busier again, yet a is not tried while it asked for time.
  const busyAgain = router.dispatched("b", undefined);
  await dispatcher.run(request());
  busyAgain();
  assert.equal(a.asked.length, 1);
});

test("when the only node is busy the client gets its 503 with the node's Retry-After", async () => {
  const { nodes, dispatcher } = cluster(["a"]);
  (nodes[0] as PlayedNode).ending = { fail: new FlotillaError("server_busy", "node a answered HTTP 503", { retryAfterS: 7 }) };
  await assert.rejects(dispatcher.run(request()), (err: FlotillaError) => err.status === 503 && err.retryAfterS === 7);
});

test("a node's refusal of the request (its 4xx) goes to the client as it is, tried once, and the circuit stays closed", async () => {
  const { nodes, dispatcher, circuits } = cluster(["a", "b"]);
  for (const n of nodes) n.ending = { fail: new FlotillaError("rejected_by_node", "temperature must be at most 2", { status: 422 }) };
  await assert.rejects(dispatcher.run(request()), (err: FlotillaError) => err.status === 422 && err.message === "temperature must be at most 2");
  assert.equal(nodes.reduce((sum, n) => sum + n.asked.length, 0), 1);
  for (const n of nodes) assert.equal(circuits.view(n.name, Date.now()).state, "closed");
});

test("a resumed stream keeps max_tokens exactly across the seam, and its usage counts the whole answer", async () => {
  const { nodes, dispatcher, router } = cluster(["a", "b"]);
  const [a, b] = nodes as [PlayedNode, PlayedNode];
  a.pieces = ["Once", " upon", " a"]; // three tokens, as a says
  a.ending = broken();
  b.pieces = [" time", " there"];
  b.ending = { finish: "length" };
  const busyB = router.dispatched("b", undefined);
  const base = request();
  const answer = await dispatcher.run({
    ...base,
    workload: { ...(base.workload as GenerationRequest), params: { ...(base.workload as GenerationRequest).params, maxTokens: 5 } },
    continueOnFailure: true,
    onChunk: () => {},
  });
  busyB();
  const continued = b.asked[0];
  assert.equal(continued?.params.maxTokens, 2, "5 asked, 3 already sent");
  const result = generationResultOf(answer.result);
  assert.equal(result.completionTokens, 5, "the failed node's tokens and the new node's");
  assert.equal(result.text, "Once upon a time there");
});
