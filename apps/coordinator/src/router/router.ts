// The router's state around the pure decision (route.ts): a cluster snapshot
// rebuilt at most every `snapshotMaxAgeMs` (so a request costs map lookups,
// not a walk of the fleet), the coordinator's own count of requests in
// flight per node (fresher than any heartbeat), and the session → node map
// that keeps a conversation on the node holding its prompt cache. Nodes whose
// circuit is open (dispatch/circuit-breaker.ts) are passed to the decision
// as ejected, with the time left, so explanations say why they were skipped.
//
// Classifying may ask a model (async); routing a classified request is
// synchronous, so the busy queue can re-route waiters one after another and
// each sees the slots the previous one took.
import type { GenerationRequest } from "@flotilla/protocol";
import type { NodeRegistry } from "../registry/node-registry.ts";
import { classifierInputOf, heuristicClassifier, type Classification, type Classifier } from "./classify.ts";
import { explainRoute } from "./explain.ts";
import { route, type ForcedTier, type RouteDecision, type RouteRequest } from "./route.ts";
import { buildSnapshot, type ClusterSnapshot, type SnapshotOptions } from "./snapshot.ts";
import type { CircuitBook } from "../dispatch/circuit-breaker.ts";

export interface RouterOptions extends SnapshotOptions {
  nowMs: () => number;
  classifier?: Classifier;
  preferLocal?: boolean;
  /** How stale the snapshot may be: health, drain and new models show up within this. */
  snapshotMaxAgeMs?: number;
  /** Sessions remembered (least recently used forgotten first). */
  maxSessions?: number;
  /** Passive health; none: no node is ever ejected. */
  circuits?: CircuitBook;
  /** Called whenever a request stops counting on a node: a slot may be free (the busy queue listens). */
  onRelease?: () => void;
}

/** What a request says about where it wants to go, beyond its model. */
export interface RouteHints {
  forceTier?: ForcedTier;
  session?: string;
}

const DEFAULT_SNAPSHOT_MAX_AGE_MS = 250;
const DEFAULT_MAX_SESSIONS = 10_000;

export class Router {
  readonly #registry: NodeRegistry;
  readonly #o: RouterOptions;
  readonly #classifier: Classifier;
  #snapshot: ClusterSnapshot | undefined;
  #snapshotAtMs = 0;
  #snapshotVersion = -1;
  readonly #inFlight = new Map<string, number>();
  /** Map iteration order is insertion order: re-inserting on use makes it an LRU. */
  readonly #sessions = new Map<string, string>();

  constructor(registry: NodeRegistry, options: RouterOptions) {
    this.#registry = registry;
    this.#o = options;
    this.#classifier = options.classifier ?? heuristicClassifier;
  }

  /** Where this generation should go, and why. */
  async decide(generation: GenerationRequest, hints: RouteHints): Promise<RouteDecision> {
    return this.route(await this.plan(generation, hints));
  }

  /** The same decision with every node accounted for (POST /cluster/route); not for the request path. */
  async explain(generation: GenerationRequest, hints: RouteHints): Promise<RouteDecision> {
    return this.#run(await this.plan(generation, hints), explainRoute);
  }

  /**
   * The request as the router weighs it: classified (unless `classification`
   * is given, as for the classifier's own queries), with its hints. Done once per request.
   */
  async plan(generation: GenerationRequest, hints: RouteHints, classification?: Classification): Promise<RouteRequest> {
    const input = classifierInputOf(generation);
    classification ??= await this.#classifier.classify(input);
    return {
      model: generation.model,
      promptTokens: input.promptTokens,
      maxTokens: input.maxTokens,
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

  /** Requests this coordinator has in flight on `node`. */
  inFlight(node: string): number {
    return this.#inFlight.get(node) ?? 0;
  }

  #run(request: RouteRequest, decide: typeof route): RouteDecision {
    const snapshot = this.#current();
    const options = {
      preferLocal: this.#o.preferLocal ?? false,
      affinity: (session: string) => this.#sessions.get(session),
      outstanding: (node: string) => this.#inFlight.get(node) ?? 0,
      ejected: this.#ejected(),
    };
    const decision = decide(request, snapshot, options);
    if (decision.unavailable !== "context-too-long") return decision;
    // The prompt size is an estimate (tokens.ts) and may overshoot: rather
    // than refuse on a guess, route as if it fitted and let the node, which
    // counts exactly, answer context_length_exceeded when it really does not.
    return decide({ ...request, promptTokens: 0, maxTokens: undefined }, snapshot, options);
  }

  /** Open circuits → why, with the time left; empty (and cheap) while every circuit is closed. */
  #ejected(): Map<string, string> {
    const ejected = new Map<string, string>();
    const circuits = this.#o.circuits;
    if (!circuits) return ejected;
    const now = this.#o.nowMs();
    for (const name of circuits.blocked(now)) {
      const view = circuits.view(name, now);
      ejected.set(name, view.state === "open"
        ? `circuit open after ${view.consecutiveFailures} failures, ejected ${(view.ejectionLeftMs / 1000).toFixed(1)} s more`
        : "circuit half-open, its probe request is out");
    }
    return ejected;
  }

  #current(): ClusterSnapshot {
    const now = this.#o.nowMs();
    const maxAge = this.#o.snapshotMaxAgeMs ?? DEFAULT_SNAPSHOT_MAX_AGE_MS;
    if (!this.#snapshot || this.#snapshotVersion !== this.#registry.version || now - this.#snapshotAtMs >= maxAge) {
      this.#snapshot = buildSnapshot(this.#registry.statuses(now), this.#o);
      this.#snapshotAtMs = now;
      this.#snapshotVersion = this.#registry.version;
    }
    return this.#snapshot;
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
