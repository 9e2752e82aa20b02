// The coordinator's Prometheus metrics: what the dispatcher reports as it
// works (DispatchObserver), plus the state of each node and of the busy queue,
// read at scrape time so that a gauge is never staler than the scrape. The
// registry is our own, not prom-client's global one, so two coordinators in one
// process (tests) do not share or clash over series.
//
// Cardinality: every label value is a name the cluster knows (a node, a model
// a node served, a tier, a fixed enum). A model named by a client that no node
// has served is labelled "" instead, so that made-up model names cannot grow
// the series without bound.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { NODE_STATES, type NodeState } from "@flotilla/protocol";
import type { DispatchObserver, QueueExit, RequestOutcome } from "../dispatch/observer.ts";
import type { CircuitState } from "../dispatch/circuit-breaker.ts";
import { JobMetrics } from "./job-metrics.ts";
import { PoolMetrics } from "./pool-metrics.ts";

/** One node as /metrics shows it; built by the caller from the registry at scrape time. */
export interface NodeMetricsView {
  name: string;
  pool: string;
  tier: number;
  /** node-state.ts: the same word status and the CLI show. */
  state: NodeState;
  circuit: CircuitState;
  inFlight: number;
  slots: number;
}

export interface MetricsSources {
  nodes: () => NodeMetricsView[];
  queueDepth: () => number;
}

const CIRCUIT_STATES: readonly CircuitState[] = ["closed", "open", "half-open"];

/**
 * Seconds, from a cached prompt's first token (~10 ms) to a long answer on a
 * slow CPU node (minutes). Shared by time to first token and duration so the
 * two can be compared bucket by bucket.
 */
const LATENCY_BUCKETS_S = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600];
/** A Raspberry Pi's 1–5 tokens/s up to a datacentre GPU's thousands for a small model. */
const TOKENS_PER_SECOND_BUCKETS = [1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 2000];
/** The busy queue's waits are bounded by its timeout, typically under a minute or two. */
const QUEUE_WAIT_BUCKETS_S = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

const PREFIX = "flotilla_";

export class GatewayMetrics implements DispatchObserver {
  readonly #registry = new Registry();
  /** Models some node has served: the only model names a client-chosen request may carry into a label. */
  readonly #knownModels = new Set<string>();
  readonly #requests: Counter<"node" | "model" | "tier" | "class" | "outcome">;
  readonly #timeToFirstToken: Histogram<"node" | "model" | "tier">;
  readonly #duration: Histogram<"node" | "model" | "tier">;
  readonly #tokensPerSecond: Histogram<"node" | "model" | "tier">;
  readonly #retries: Counter<"node" | "model">;
  readonly #continuations: Counter<"node" | "model">;
  readonly #failovers: Counter<"model">;
  readonly #queueWait: Histogram<"exit">;
  readonly #queueExits: Counter<"exit">;
  /** The job queue's series (issue 12), on this registry so that one /metrics shows both. */
  readonly jobs: JobMetrics;
  /** Pools and roamers (issue 17), on this registry too. */
  readonly pools: PoolMetrics;

  constructor(sources: MetricsSources) {
    const registers = [this.#registry];
    // Memory, CPU, event-loop lag and GC of the coordinator process itself,
    // as flotilla_process_* and flotilla_nodejs_*.
    collectDefaultMetrics({ register: this.#registry, prefix: PREFIX });
    this.jobs = new JobMetrics(this.#registry);
    this.pools = new PoolMetrics(this.#registry);

    this.#requests = new Counter({
      name: `${PREFIX}requests_total`,
      help: "Requests finished, by the node that answered (\"\" when none did) and how they ended.",
      labelNames: ["node", "model", "tier", "class", "outcome"],
      registers,
    });
    this.#timeToFirstToken = new Histogram({
      name: `${PREFIX}time_to_first_token_seconds`,
      help: "From the start of a request to its first text, for every request that got text.",
      labelNames: ["node", "model", "tier"],
      buckets: LATENCY_BUCKETS_S,
      registers,
    });
    this.#duration = new Histogram({
      name: `${PREFIX}request_duration_seconds`,
      help: "Duration of requests answered in full (outcome ok).",
      labelNames: ["node", "model", "tier"],
      buckets: LATENCY_BUCKETS_S,
      registers,
    });
    this.#tokensPerSecond = new Histogram({
      name: `${PREFIX}tokens_per_second`,
      help: "Generation speed of requests answered in full, after the first token where that can be told.",
      labelNames: ["node", "model", "tier"],
      buckets: TOKENS_PER_SECOND_BUCKETS,
      registers,
    });
    this.#retries = new Counter({
      name: `${PREFIX}retries_total`,
      help: "Tries that failed on a node before any text reached the client, so another node was tried.",
      labelNames: ["node", "model"],
      registers,
    });
    this.#continuations = new Counter({
      name: `${PREFIX}continuations_total`,
      help: "Streams whose node failed mid-answer and which went on on another node.",
      labelNames: ["node", "model"],
      registers,
    });

    this.#failovers = new Counter({
      name: `${PREFIX}failovers_total`,
      help: "Requests answered in full although a node failed on the way (retried or resumed on another).",
      labelNames: ["model"],
      registers,
    });

    new Gauge({
      name: `${PREFIX}queue_depth`,
      help: "Requests waiting in the busy queue for a free slot.",
      registers,
      collect() {
        this.set(sources.queueDepth());
      },
    });
    this.#queueWait = new Histogram({
      name: `${PREFIX}queue_wait_seconds`,
      help: "Time requests spent in the busy queue, by how they left it.",
      labelNames: ["exit"],
      buckets: QUEUE_WAIT_BUCKETS_S,
      registers,
    });
    this.#queueExits = new Counter({
      name: `${PREFIX}queue_exits_total`,
      help: "Requests that left the busy queue, by how they left it.",
      labelNames: ["exit"],
      registers,
    });

    registerNodeGauges(registers, sources);
  }

  finished(outcome: RequestOutcome): void {
    if (outcome.node !== null) this.#knownModels.add(outcome.model);
    const where = {
      node: outcome.node ?? "",
      model: this.#knownModels.has(outcome.model) ? outcome.model : "",
      tier: outcome.tier === null ? "" : String(outcome.tier),
    };
    this.#requests.inc({ ...where, class: outcome.class, outcome: outcome.outcome });
    if (outcome.firstTokenS !== null) this.#timeToFirstToken.observe(where, outcome.firstTokenS);
    // Errors and cancellations are timed by a budget or a client's patience,
    // not by the node: they are counted above, and kept out of the latencies.
    if (outcome.outcome !== "ok") return;
    if (outcome.failedTries > 0) this.#failovers.inc({ model: where.model });
    this.#duration.observe(where, outcome.totalS);
    const rate = tokensPerSecond(outcome);
    if (rate !== undefined) this.#tokensPerSecond.observe(where, rate);
  }

  retried(node: string, model: string): void {
    this.#knownModels.add(model);
    this.#retries.inc({ node, model });
  }

  resumed(node: string, model: string): void {
    this.#knownModels.add(model);
    this.#continuations.inc({ node, model });
  }

  dequeued(waitS: number, exit: QueueExit): void {
    this.#queueWait.observe({ exit }, waitS);
    this.#queueExits.inc({ exit });
  }

  /** The exposition for GET /metrics. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.#registry.contentType, body: await this.#registry.metrics() };
  }
}

/**
 * Generation speed: over the time after the first token when there is one and
 * at least two tokens (so prompt processing does not count against the node),
 * else over the whole request. Undefined when there is nothing to measure.
 */
export function tokensPerSecond(outcome: RequestOutcome): number | undefined {
  if (outcome.completionTokens <= 0) return undefined;
  if (outcome.firstTokenS !== null && outcome.completionTokens >= 2) {
    const generatingS = outcome.totalS - outcome.firstTokenS;
    if (generatingS > 0) return outcome.completionTokens / generatingS;
  }
  return outcome.totalS > 0 ? outcome.completionTokens / outcome.totalS : undefined;
}

/**
 * Per-node gauges, set from `sources.nodes()` at each scrape. Each resets
 * before setting, so a node that has left the cluster leaves the output too.
 * State sets carry one series per state, 1 for the current one and 0 for the
 * others, so `== 1` selects nodes in a state and a change shows as a step.
 */
function registerNodeGauges(registers: Registry[], sources: MetricsSources): void {
  new Gauge({
    name: `${PREFIX}node_info`,
    help: "Always 1; carries each node's pool and tier, to join onto the other node series.",
    labelNames: ["node", "pool", "tier"],
    registers,
    collect() {
      this.reset();
      for (const n of sources.nodes()) this.set({ node: n.name, pool: n.pool, tier: String(n.tier) }, 1);
    },
  });
  new Gauge({
    name: `${PREFIX}node_health`,
    help: "1 for the node's current state (ready, suspect, down, draining), 0 for the others.",
    labelNames: ["node", "state"],
    registers,
    collect() {
      this.reset();
      for (const n of sources.nodes()) {
        for (const state of NODE_STATES) this.set({ node: n.name, state }, state === n.state ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: `${PREFIX}node_circuit_state`,
    help: "1 for the state of the node's circuit breaker, 0 for the others.",
    labelNames: ["node", "state"],
    registers,
    collect() {
      this.reset();
      for (const n of sources.nodes()) {
        for (const state of CIRCUIT_STATES) this.set({ node: n.name, state }, state === n.circuit ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: `${PREFIX}node_in_flight`,
    help: "Requests the node is working on now.",
    labelNames: ["node"],
    registers,
    collect() {
      this.reset();
      for (const n of sources.nodes()) this.set({ node: n.name }, n.inFlight);
    },
  });
  new Gauge({
    name: `${PREFIX}node_slots`,
    help: "Requests the node can work on at once.",
    labelNames: ["node"],
    registers,
    collect() {
      this.reset();
      for (const n of sources.nodes()) this.set({ node: n.name }, n.slots);
    },
  });
}
