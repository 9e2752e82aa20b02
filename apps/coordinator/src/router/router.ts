// The router's state around the pure decision (route.ts): a cluster snapshot
// rebuilt at most every `snapshotMaxAgeMs` (so a request costs map lookups,
// not a walk of the fleet), the coordinator's own count of requests in
// flight per node (fresher than any heartbeat), and the session → node map
// that keeps a conversation on the node holding its prompt cache. Nodes whose
// circuit is open (dispatch/circuit-breaker.ts) are passed to the decision
// as ejected (a code and the time left), so explanations say why they were skipped.
//
// Classifying may ask a model (async); routing a classified request is
// synchronous, so the busy queue can re-route waiters one after another and
// each sees the slots the previous one took.
import { capabilityOf, isEmbedding, isGeneration, type Capability, type NodeStatus, type Workload } from "@flotilla/protocol";
import type { NodeRegistry } from "../nodes/node-registry.ts";
import { classifierInputOf, heuristicClassifier, type Classification, type Classifier } from "./classify.ts";
import { explainRoute } from "./explain.ts";
import type { Ejection, RouteDecision } from "./decision.ts";
import { route, type ForcedTier, type RouteRequest } from "./route.ts";
import { estimateTokens } from "./tokens.ts";
import { buildSnapshot, resolveModel, type ClusterSnapshot, type SnapshotOptions } from "./snapshot.ts";

export interface RouterOptions extends SnapshotOptions {
  nowMs: () => number;
  classifier?: Classifier;
  preferLocal?: boolean;
  /** How stale the snapshot may be: health, drain and new models show up within this. */
  snapshotMaxAgeMs?: number;
  /** Sessions remembered (least recently used forgotten first). */
  maxSessions?: number;
  /** Passive health; none: no node is ever ejected. */
  circuits?: RouterCircuits;
  /** Called whenever a request stops counting on a node: a slot may be free (the busy queue listens). */
  onRelease?: () => void;
  /** The random source of every decision (sampling, tie-breaks); default Math.random. Tests pass a seeded one. */
  random?: () => number;
  /** Which nodes take which pool's work; none: every node takes every request. */
  pools?: RouterPools;
}

/**
 * What the router reads of the pools (pools/pool-book.ts's PoolBook is one,
 * structurally), declared here so that the router does not depend on the
 * pools, which read the router's figures (docs/adr/0015, docs/adr/0040).
 */
export interface RouterPools {
  /** Changes whenever which node takes which pool's work changes (a roamer lent or back). */
  readonly version: number;
  /** The pool a request is held to: the pool it names if that one is declared, else the declared pool of its kind; undefined: any. */
  target(named: string | undefined, kind: Workload["input"]["kind"]): string | undefined;
  /** Whether `node` takes work for `pool` (undefined: work held to no pool). */
  admits(node: NodeStatus, pool: string | undefined): boolean;
}

/**
 * A prompt whose estimate is this many times the largest context window is
 * refused at the coordinator: no tokenizer miscounts by that much, and a node
 * would spend up to a second tokenizing it only to refuse it too.
 */
const FAR_OVER_CONTEXT = 2;

/** Embeddings are not classified: every node that embeds is as good as another for them. */
const EMBEDDING_CLASSIFICATION: Classification = { class: "SIMPLE", reason: "embeddings are not classified" };
const SPEECH_CLASSIFICATION: Classification = { class: "SIMPLE", reason: "speech is not classified" };

/**
 * What the router reads of the nodes' circuits, declared here so that the
 * router does not depend on the dispatcher that depends on it (docs/adr/0015):
 * dispatch/circuit-breaker.ts's CircuitBook is one, structurally.
 */
export interface RouterCircuits {
  /** Nodes a new request must not go to now. */
  blocked(nowMs: number): Iterable<string>;
  view(name: string, nowMs: number): RouterCircuitView;
  /** A request went to `name`: a half-open circuit's probe is out. */
  sent(name: string, nowMs: number): void;
}

/** The part of a circuit's state that an ejection's explanation quotes. */
export interface RouterCircuitView {
  state: "closed" | "open" | "half-open";
  consecutiveFailures: number;
  ejectionLeftMs: number;
  /** Open because the node asked for time (Retry-After), not for failing. */
  pausedByNode: boolean;
}

/** What a request says about where it wants to go, beyond its model. */
export interface RouteHints {
  forceTier?: ForcedTier;
  session?: string;
  /** A job's pool: its nodes serve it when the pool is declared. */
  pool?: string;
}

interface PoolSnapshot {
  snapshot: ClusterSnapshot;
  atMs: number;
  version: number;
  poolsVersion: number;
}

const DEFAULT_SNAPSHOT_MAX_AGE_MS = 250;
const DEFAULT_MAX_SESSIONS = 10_000;

export class Router {
  readonly #registry: NodeRegistry;
  readonly #o: RouterOptions;
  readonly #classifier: Classifier;
  /** By target pool ("" for requests held to none): a few entries, one per declared pool. */
  readonly #snapshots = new Map<string, PoolSnapshot>();
  readonly #inFlight = new Map<string, number>();
  /** Map iteration order is insertion order: re-inserting on use makes it an LRU. */
  readonly #sessions = new Map<string, string>();

  constructor(registry: NodeRegistry, options: RouterOptions) {
    this.#registry = registry;
    this.#o = options;
    this.#classifier = options.classifier ?? heuristicClassifier;
  }

  /** Where this workload should go, and why. */
  async decide(workload: Workload, hints: RouteHints): Promise<RouteDecision> {
    return this.route(await this.plan(workload, hints));
  }

  /** The same decision with every node accounted for (POST /cluster/route); not for the request path. */
  async explain(workload: Workload, hints: RouteHints): Promise<RouteDecision> {
    return this.#run(await this.plan(workload, hints), explainRoute);
  }

  /**
   * The request as the router weighs it: classified (unless `classification`
   * is given, as for the classifier's own queries), with its hints. Done once per request.
   */
  async plan(workload: Workload, hints: RouteHints, classification?: Classification): Promise<RouteRequest> {
    const capability = capabilityOf(workload);
    let promptTokens: number;
    let maxTokens: number | undefined;
    if (isGeneration(workload)) {
      const input = classifierInputOf(workload);
      classification ??= await this.#classifier.classify(input);
      ({ promptTokens, maxTokens } = input);
    } else if (!isEmbedding(workload)) {
      // Speech reads no context window and is not classified: any node with the engine takes it.
      classification ??= SPEECH_CLASSIFICATION;
      promptTokens = 0;
      maxTokens = 0;
    } else {
      // Each input is embedded on its own: the largest one must fit, and nothing is generated.
      classification ??= EMBEDDING_CLASSIFICATION;
      promptTokens = Math.max(...workload.input.items.map((item) => (typeof item === "string" ? estimateTokens(item) : item.length)));
      maxTokens = 0;
    }
    const pool = this.#o.pools?.target(hints.pool, workload.input.kind);
    return {
      model: workload.model,
      capability,
      ...(pool === undefined ? {} : { pool }),
      promptTokens,
      maxTokens,
      classification,
      ...(hints.forceTier ? { forceTier: hints.forceTier } : {}),
      ...(hints.session !== undefined ? { session: hints.session } : {}),
    };
  }

  /** Routes a planned request now (exclude: nodes it already failed on). */
  route(request: RouteRequest): RouteDecision {
    return this.#run(request, route);
  }

  /** Counts a request on `node` until the returned function is called; remembers the session's node. */
  dispatched(node: string, session: string | undefined): () => void {
    this.#inFlight.set(node, (this.#inFlight.get(node) ?? 0) + 1);
    this.#o.circuits?.sent(node, this.#o.nowMs());
    if (session !== undefined) this.#remember(session, node);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#inFlight.get(node) ?? 1) - 1;
      if (left <= 0) this.#inFlight.delete(node);
      else this.#inFlight.set(node, left);
      this.#o.onRelease?.();
    };
  }

  /** Whether some node that takes work now (ready or suspect, not drained) serves a model that can do `capability`. */
  serves(capability: Capability): boolean {
    return this.#current(undefined).byCapability[capability].auto.byNode.size > 0;
  }

  /**
   * The nodes that would take this request once they load its model (their
   * agent unloaded it when idle), loaded ones aside: what the dispatcher has
   * loaded while the request waits for a slot.
   */
  unloaded(request: RouteRequest): { node: string; model: string }[] {
    const { group } = resolveModel(this.#current(request.pool), request.model, request.capability ?? "chat");
    if (!group) return [];
    return [...group.byNode.values()].filter((p) => !p.loaded).map((p) => ({ node: p.name, model: p.model }));
  }

  /** Requests this coordinator has in flight on `node`. */
  inFlight(node: string): number {
    return this.#inFlight.get(node) ?? 0;
  }

  #run(request: RouteRequest, decide: typeof route): RouteDecision {
    let snapshot = this.#current(request.pool);
    const options = {
      preferLocal: this.#o.preferLocal ?? false,
      affinity: (session: string) => this.#sessions.get(session),
      outstanding: (node: string) => this.#inFlight.get(node) ?? 0,
      ejected: this.#ejected(),
    };
    const random = this.#o.random ?? Math.random;
    let decision = decide(request, snapshot, options, random);
    if (decision.kind === "unavailable" && !this.#isFresh(request.pool)) {
      // A refusal is decided on the nodes as they are now, not as they were up
      // to snapshotMaxAgeMs ago: a node that status already shows ready (it
      // just came back) must not be "no such model" meanwhile. Refusals are
      // rare, so rebuilding for them costs little.
      snapshot = this.#current(request.pool, 0);
      decision = decide(request, snapshot, options, random);
    }
    if (decision.kind === "chosen" || decision.why !== "context-too-long") return decision;
    // The prompt size is an estimate (tokens.ts) and may overshoot: rather
    // than refuse on a guess, route as if it fitted and let the node, which
    // counts exactly, answer context_length_exceeded when it really does not
    // — unless the estimate is far over every window (FAR_OVER_CONTEXT).
    const { group } = resolveModel(snapshot, request.model, request.capability);
    if (group && request.promptTokens >= FAR_OVER_CONTEXT * group.largestContext) return decision;
    const overruled = decide({ ...request, promptTokens: 0, maxTokens: undefined }, snapshot, options, random);
    // Said first, so the "needs N tokens" that follows reads as what it is: the re-decision's.
    const step = { code: "estimate-overruled", estimated: decision.neededTokens, largestWindow: group?.largestContext ?? 0 } as const;
    return { ...overruled, steps: [step, ...overruled.steps] };
  }

  /** Open circuits → why, with the time left; empty (and cheap) while every circuit is closed. */
  #ejected(): Map<string, Ejection> {
    const ejected = new Map<string, Ejection>();
    const circuits = this.#o.circuits;
    if (!circuits) return ejected;
    const now = this.#o.nowMs();
    for (const name of circuits.blocked(now)) {
      const view = circuits.view(name, now);
      ejected.set(name, view.state !== "open"
        ? { code: "half-open" }
        : view.pausedByNode
        ? { code: "paused", leftMs: view.ejectionLeftMs }
        : { code: "circuit-open", failures: view.consecutiveFailures, leftMs: view.ejectionLeftMs });
    }
    return ejected;
  }

  /** The snapshot of the nodes that take `pool`'s work (undefined: work held to no pool). */
  #current(pool: string | undefined, maxAgeMs = this.#o.snapshotMaxAgeMs ?? DEFAULT_SNAPSHOT_MAX_AGE_MS): ClusterSnapshot {
    const now = this.#o.nowMs();
    const maxAge = maxAgeMs;
    const pools = this.#o.pools;
    const poolsVersion = pools?.version ?? 0;
    const cached = this.#snapshots.get(pool ?? "");
    if (cached && cached.version === this.#registry.version && cached.poolsVersion === poolsVersion && now - cached.atMs < maxAge) return cached.snapshot;
    const statuses = this.#registry.statuses(now);
    const snapshot = buildSnapshot(pools ? statuses.filter((node) => pools.admits(node, pool)) : statuses, this.#o);
    this.#snapshots.set(pool ?? "", { snapshot, atMs: now, version: this.#registry.version, poolsVersion });
    return snapshot;
  }

  /** Whether the pool's snapshot was built at this very moment. */
  #isFresh(pool: string | undefined): boolean {
    return this.#snapshots.get(pool ?? "")?.atMs === this.#o.nowMs();
  }

  #remember(session: string, node: string): void {
    this.#sessions.delete(session);
    this.#sessions.set(session, node);
    if (this.#sessions.size > (this.#o.maxSessions ?? DEFAULT_MAX_SESSIONS)) {
      const oldest = this.#sessions.keys().next();
      if (!oldest.done) this.#sessions.delete(oldest.value);
    }
  }
}
