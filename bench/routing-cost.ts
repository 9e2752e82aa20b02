// Issue 5, item 4: what one routing decision costs at 10, 100, 1,000 and
// 10,000 nodes, in process. Each size gets a NodeRegistry of that many nodes
// (three tiers, two models, assorted context windows and busy slots) and a
// Router configured as createCoordinator configures it (a circuit book, the
// heuristic classifier). Requests are planned (classified) once per prompt
// shape, outside the timed loop; what is timed is the synchronous
// router.route(), the part every request and every busy-queue re-route pays,
// one call at a time with process.hrtime.bigint() around it (its own cost,
// ~0.05 µs, is included). The clock is held still while timing, so the
// cached snapshot is reused as it is between rebuilds; the rebuild (paid at
// most every 250 ms, and on every route after a join or removal) is timed
// separately, by moving the clock past the cache's age before a route.
// Rounds alternate the sizes (10, 100, 1,000, 10,000, 10, …); rows show the
// median of the per-round p50/p99 with their min–max. The suite ends with
// the cost of classifying a request by prompt size (classify-cost.ts).
import type { GenerationRequest, InferenceNode, NodeStatus, RunOptions, ServedModel, Tier, Workload, WorkloadResult } from "@flotilla/protocol";
import { CircuitBook, NodeRegistry, Router, routeReason, testNode, type RouteRequest } from "@flotilla/coordinator/routing";
import { classifyCost } from "./classify-cost.ts";
import type { BenchResult, Mode } from "./report.ts";
import { infoRow } from "./rows.ts";
import { ms, quantile, ratios, spread, times } from "./stats.ts";

/** Milliseconds as µs with two decimals: a decision takes a few. */
const us = (value: number): string => (Number.isNaN(value) ? "n/a" : `${(value * 1000).toFixed(2)} µs`);

const SUITE = "routing";
const SIZES = [10, 100, 1_000, 10_000] as const;
const SETTINGS = {
  smoke: { rounds: 1, calls: 2_000, warm: 2_000, rebuilds: 2 },
  quick: { rounds: 5, calls: 50_000, warm: 20_000, rebuilds: 10 },
  full: { rounds: 10, calls: 200_000, warm: 50_000, rebuilds: 20 },
} as const;
const GOAL_P99_MS = 0.02;
const GOAL_RATIO = 1.5;
/** The Router's default snapshot age (router.ts); the clock jumps past it to force a rebuild. */
const SNAPSHOT_AGE_MS = 250;

/** A registry entry with a fixed status, built afresh on every call as a RemoteNode's is. */
class BenchNode implements InferenceNode {
  readonly name: string;
  readonly #make: () => NodeStatus;
  constructor(name: string, make: () => NodeStatus) {
    this.name = name;
    this.#make = make;
  }
  status(): NodeStatus {
    return this.#make();
  }
  run(_workload: Workload, _options: RunOptions): Promise<WorkloadResult> {
    return Promise.reject(new Error("the routing bench never runs a workload"));
  }
}

/**
 * Node i of a fleet: 60% small tier-0 machines, 30% tier 1, 10% tier 2; a
 * small model everywhere below tier 2, a large one from tier 1 up; context
 * windows and busy slots varied, so the binary search, the sampling and the
 * spill-up all have work to do. Deterministic: the same fleet every run.
 */
function fleetNode(i: number): BenchNode {
  const name = `node-${i}`;
  const bucket = i % 10;
  const tier: Tier = bucket < 6 ? 0 : bucket < 9 ? 1 : 2;
  const busy = (i * 7) % 5; // 0–4 of 4 slots: some nodes full
  const slots = { total: 4, busy: Math.min(busy, 4), queued: busy > 4 ? busy - 4 : 0 };
  const capabilities: ServedModel["capabilities"] = ["chat"];
  const small = { id: "llama-3.2-3b", contextSize: [4_096, 8_192, 16_384][i % 3] ?? 4_096, loadedAtMs: 0, slots, capabilities };
  const large = { id: "qwen2.5-32b", contextSize: [16_384, 32_768][i % 2] ?? 16_384, loadedAtMs: 0, slots, capabilities };
  const models = tier === 0 ? [small] : tier === 1 ? [small, large] : [large];
  const firstTokenMs = 50 + (i % 13) * 10;
  return new BenchNode(name, () => ({ ...testNode(name, { tier, models, firstTokenMs, totalMs: firstTokenMs * 8 }), url: `http://10.0.${(i >> 8) & 255}.${i & 255}:7070` }));
}

const params = { temperature: undefined, topP: undefined, seed: undefined, stop: [], presencePenalty: undefined, frequencyPenalty: undefined };
const chat = (model: string, content: string, maxTokens: number | undefined): GenerationRequest => ({
  model,
  input: { kind: "chat", messages: [{ role: "user", content }] },
  params: { ...params, maxTokens },
});

/** Prompt shapes cycled through in the timed loop: the three classes, "auto", a long context, a session. */
const SHAPES: Array<{ generation: GenerationRequest; session?: string }> = [
  { generation: chat("llama-3.2-3b", "What is the capital of France?", 32) },
  { generation: chat("llama-3.2-3b", "Explain how a hash map handles collisions, with an example.", 400) },
  { generation: chat("qwen2.5-32b", "Design a distributed rate limiter and critically evaluate the trade-offs of three approaches.", 2_000) },
  { generation: chat("auto", "Summarise this paragraph in one sentence: the meeting moved to Tuesday.", undefined) },
  { generation: chat("qwen2.5-32b", `Summarise this log:\n${"GET /api/items 200 12ms\n".repeat(2_000)}`, 1_000) },
  { generation: chat("llama-3.2-3b", "And what about Spain?", 64), session: "conversation-1" },
];

interface Fleet {
  size: number;
  router: Router;
  plans: RouteRequest[];
  /** The router's clock: held still while timing, moved to force a rebuild. */
  clock: { now: number };
}

async function fleet(size: number): Promise<Fleet> {
  const registry = new NodeRegistry();
  for (let i = 0; i < size; i++) registry.add(fleetNode(i));
  const clock = { now: 1_000_000 };
  const router = new Router(registry, { nowMs: () => clock.now, circuits: new CircuitBook(), preferLocal: false });
  const plans: RouteRequest[] = [];
  for (const shape of SHAPES) plans.push(await router.plan(shape.generation, shape.session === undefined ? {} : { session: shape.session }));
  // The session of the last shape has a node to stick to, as after its first request.
  const first = router.route(plans.at(-1) as RouteRequest);
  if (first.kind === "chosen") router.dispatched(first.node, "conversation-1")();
  // Every plan must route somewhere, or the bench would time refusals.
  for (const plan of plans) {
    const decision = router.route(plan);
    if (decision.kind === "unavailable") throw new Error(`routing bench: no node for ${plan.model} at ${size} nodes: ${routeReason(decision)}`);
  }
  return { size, router, plans, clock };
}

/** Per-call route() times in ms, one call at a time. */
function timeRoutes(f: Fleet, calls: number): number[] {
  const out = new Array<number>(calls);
  const plans = f.plans;
  let sink = 0;
  for (let i = 0; i < calls; i++) {
    const plan = plans[i % plans.length] as RouteRequest;
    const start = process.hrtime.bigint();
    const decision = f.router.route(plan);
    const end = process.hrtime.bigint();
    out[i] = Number(end - start) / 1e6;
    sink += decision.candidates.length;
  }
  if (sink === 0) throw new Error("routing bench: no candidates at all");
  return out;
}

/** Routes that rebuild the snapshot first (the clock moved past its age), in ms each. */
function timeRebuilds(f: Fleet, n: number): number[] {
  const out: number[] = [];
  const plan = f.plans[0] as RouteRequest;
  for (let i = 0; i < n; i++) {
    f.clock.now += SNAPSHOT_AGE_MS;
    const start = process.hrtime.bigint();
    f.router.route(plan);
    out.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return out;
}

export async function routingCost(mode: Mode): Promise<BenchResult[]> {
  const s = SETTINGS[mode];
  const fleets: Fleet[] = [];
  for (const size of SIZES) fleets.push(await fleet(size));
  for (const f of fleets) timeRoutes(f, s.warm); // JIT and caches warm, nothing kept

  const p50 = new Map<number, number[]>(SIZES.map((n) => [n, []]));
  const p99 = new Map<number, number[]>(SIZES.map((n) => [n, []]));
  const rebuild: number[] = [];
  for (let r = 0; r < s.rounds; r++) {
    for (const f of fleets) {
      const times = timeRoutes(f, s.calls);
      p50.get(f.size)?.push(quantile(times, 0.5));
      p99.get(f.size)?.push(quantile(times, 0.99));
    }
    const largest = fleets.at(-1);
    if (largest) rebuild.push(quantile(timeRebuilds(largest, s.rebuilds), 0.5));
  }

  const n = (size: number) => size.toLocaleString("en-US");
  const results: BenchResult[] = [];
  for (const size of SIZES) {
    results.push(infoRow(SUITE, `route() at ${n(size)} nodes: p50`, p50.get(size) ?? [], us));
    const tail = spread(p99.get(size) ?? []);
    const judged = size === 10_000;
    results.push({
      suite: SUITE,
      name: `route() at ${n(size)} nodes: p99`,
      value: us(tail.median),
      range: `${us(tail.min)}–${us(tail.max)}`,
      goal: judged ? `≤ ${GOAL_P99_MS * 1000} µs` : "",
      met: judged ? tail.median <= GOAL_P99_MS : null,
    });
  }
  // In nanoseconds: ratios() treats a divisor under 0.001 as nothing to divide
  // by (1 µs, in the milliseconds the other suites use), and route()'s p99 is
  // now below a microsecond.
  const ns = (values: readonly number[]) => values.map((v) => v * 1e6);
  const ratio = spread(ratios(ns(p99.get(10_000) ?? []), ns(p99.get(100) ?? [])));
  results.push({
    suite: SUITE,
    name: "p99 at 10,000 nodes ÷ p99 at 100 nodes",
    value: times(ratio.median),
    range: `${times(ratio.min)}–${times(ratio.max)}`,
    goal: `≤ ${GOAL_RATIO}×`,
    met: ratio.median <= GOAL_RATIO,
  });
  results.push(infoRow(SUITE, "snapshot rebuild + route() at 10,000 nodes (at most every 250 ms, and after each join or removal)", rebuild, ms));
  // Classifying (paid once per request, before route()) by prompt size: classify-cost.ts.
  results.push(...classifyCost(mode));
  return results;
}
