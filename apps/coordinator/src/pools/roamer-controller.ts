// The roamers at work (issue 17, docs/adr/0040): keeps each roamer's record
// (roamer-state.ts), runs the autoscaler (autoscaler.ts) every interval, and
// turns the records into requests to the agents. The coordinator's wish is
// the record; the agent's report, in every heartbeat, is what is true:
//   ASSIGNED, PROVISIONING, RUNNING → the agent should run the lending: PUT it
//     (idempotent by id) until the agent reports it;
//   CLEANUP → the agent should run nothing: DELETE until it reports so;
//   IDLE → nothing to ask.
// A roamer lent to a pool takes the pool's work (PoolBook) from ASSIGNED on,
// which is harmless before its model is loaded: the router only picks
// models a node reports.
import { randomUUID } from "node:crypto";
import {
  nodeStateOf,
  ROAMER_POOL,
  takesWork,
  type AssignmentReport,
  type AssignmentRequest,
  type AssignRoamerRequest,
  type NodeStatus,
  type PoolView,
  type RoamerState,
  type RoamerView,
} from "@flotilla/protocol";
import { FlotillaError } from "@flotilla/protocol";
import type { Service } from "@flotilla/lifecycle";
import type { RoamerSettings } from "../config/cluster-file-pools.ts";
import type { PoolBook } from "./pool-book.ts";
import { idleRoamer, nextRoamerState, type Lending, type RoamerEvent, type RoamerRecord } from "./roamer-state.ts";
import { planRoamers, type AutoscalerAction, type PoolInput, type RoamerInput } from "./autoscaler.ts";

export interface PoolDemand {
  queuedJobs: number;
  runningJobs: number;
  waitingRequests: number;
}

export interface RoamerAgents {
  /** PUT (a lending) or DELETE (null) the agent's assignment; its report back. */
  assignment(name: string, change: AssignmentRequest | null, signal: AbortSignal): Promise<AssignmentReport | null>;
}

export interface RoamerLog {
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
}

export interface RoamerControllerOptions {
  nodes: () => NodeStatus[];
  book: PoolBook;
  agents: RoamerAgents;
  demand: (pool: string) => Promise<PoolDemand>;
  /** Requests this coordinator has in flight on a node. */
  inFlight: (node: string) => number;
  settings: RoamerSettings;
  log: RoamerLog;
  nowMs?: () => number;
  /** How often records are reconciled with the agents' reports. */
  reconcileMs?: number;
  /** How long before a wish not yet reported is sent again. */
  resendMs?: number;
}

interface Roamer {
  record: RoamerRecord;
  /** The last time it had work in flight or its pool had demand. */
  busyAtMs: number | null;
  /** A request to the agent under way, and when the last one was sent. */
  sending: boolean;
  sentAtMs: number;
  history: { state: RoamerState; atMs: number }[];
}

/** States kept per roamer for its view: a whole lending and the one before. */
const HISTORY = 12;

export class RoamerController implements Service {
  readonly name = "roamer controller";
  readonly #o: RoamerControllerOptions;
  readonly #now: () => number;
  readonly #roamers = new Map<string, Roamer>();
  /** Per pool, when a roamer was last lent to it: the autoscaler's cooldown. */
  readonly #lastLentAtMs = new Map<string, number>();
  readonly #abort = new AbortController();
  readonly #inFlight = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #ticking = false;
  #lastAutoscaleMs = 0;

  constructor(options: RoamerControllerOptions) {
    this.#o = options;
    this.#now = options.nowMs ?? Date.now;
  }

  start(): void {
    this.#timer = setInterval(() => void this.tick(), this.#o.reconcileMs ?? 250);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#abort.abort(new Error("the coordinator is stopping"));
    await Promise.allSettled([...this.#inFlight]);
  }

  /** One round: reports into records, the autoscaler when its interval has passed, wishes out to agents. */
  async tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      const nodes = this.#roamerNodes();
      this.#reconcile(nodes);
      const now = this.#now();
      if (this.#o.settings.autoscale && now - this.#lastAutoscaleMs >= this.#o.settings.intervalMs) {
        this.#lastAutoscaleMs = now;
        await this.#autoscale(nodes);
      }
      for (const [name, roamer] of this.#roamers) this.#pursue(name, roamer, nodes.get(name));
    } catch (err) {
      this.#o.log.warn({ err }, "a round of the roamer controller failed");
    } finally {
      this.#ticking = false;
    }
  }

  /** `POST /cluster/roamers/{name}/assign`: the operator's lending, with the roamer's first listed template of the pool. */
  assign(name: string, body: AssignRoamerRequest): RoamerView {
    const node = this.#roamerNodes().get(name);
    if (node === undefined) throw new FlotillaError("not_found", `no roamer is named ${name} (a roamer is an agent joined with --pool ${ROAMER_POOL})`, { param: "name" });
    const { pool, template } = this.#choose(node, body);
    const roamer = this.#roamerOf(name);
    const now = this.#now();
    const lending: Lending = { id: newAssignmentId(), pool, template, duration: body.duration, by: "operator", reason: "operator", lentAtMs: now };
    this.#apply(name, roamer, { type: "assign", lending }, "an operator's assignment");
    this.#lastLentAtMs.set(pool, now);
    this.#pursue(name, roamer, node);
    return this.#view(name, roamer, node);
  }

  /** `POST /cluster/roamers/{name}/release`. */
  release(name: string): RoamerView {
    const node = this.#roamerNodes().get(name);
    const roamer = this.#roamers.get(name);
    if (node === undefined || roamer === undefined) throw new FlotillaError("not_found", `no roamer is named ${name}`, { param: "name" });
    this.#apply(name, roamer, { type: "release", reason: "operator" }, "an operator's release");
    this.#pursue(name, roamer, node);
    return this.#view(name, roamer, node);
  }

  /** As the last round left them (every reconcileMs): a read changes no record. */
  views(): RoamerView[] {
    const nodes = this.#roamerNodes();
    return [...nodes.keys()].sort().map((name) => this.#view(name, this.#roamerOf(name), nodes.get(name)));
  }

  /** Each declared pool, and each undeclared one some node carries, with its workers and demand. */
  async poolViews(): Promise<PoolView[]> {
    const nodes = this.#o.nodes();
    const names = new Set(this.#o.book.declared());
    for (const node of nodes) if (node.pool !== ROAMER_POOL) names.add(node.pool);
    const views: PoolView[] = [];
    for (const name of names) {
      const declared = this.#o.book.pool(name);
      const { workers, ready, dedicated, dedicatedReady } = this.#workersOf(name, nodes);
      views.push({
        name,
        declared: declared !== undefined,
        kinds: declared ? [...declared.kinds] : [],
        templates: declared ? [...declared.templates] : [],
        workers: {
          total: workers.length,
          ready: ready.length,
          busy: ready.filter((node) => node.inFlight > 0 || this.#o.inFlight(node.name) > 0).length,
          dedicated: dedicated.length,
          dedicatedReady: dedicatedReady.length,
        },
        roamers: workers.filter((node) => node.pool === ROAMER_POOL).map((node) => node.name),
        demand: await this.#o.demand(name),
      });
    }
    return views;
  }


  /** The nodes that take a pool's work (its own and lent roamers), those ready, and its own. */
  #workersOf(pool: string, nodes: readonly NodeStatus[]): { workers: NodeStatus[]; ready: NodeStatus[]; dedicated: NodeStatus[]; dedicatedReady: NodeStatus[] } {
    const workers = nodes.filter((node) => this.#o.book.effectivePool(node) === pool);
    const dedicated = nodes.filter((node) => node.pool === pool);
    const takes = (node: NodeStatus) => takesWork(nodeStateOf(node));
    return { workers, ready: workers.filter(takes), dedicated, dedicatedReady: dedicated.filter(takes) };
  }

  #roamerNodes(): Map<string, NodeStatus> {
    const nodes = new Map<string, NodeStatus>();
    for (const node of this.#o.nodes()) if (node.pool === ROAMER_POOL && node.kind === "agent") nodes.set(node.name, node);
    return nodes;
  }

  #roamerOf(name: string): Roamer {
    let roamer = this.#roamers.get(name);
    if (!roamer) {
      const now = this.#now();
      roamer = { record: idleRoamer(now), busyAtMs: null, sending: false, sentAtMs: 0, history: [{ state: "IDLE", atMs: now }] };
      this.#roamers.set(name, roamer);
    }
    return roamer;
  }

  /** The agents' reports into the records; a roamer that is down or gone is lost. */
  #reconcile(nodes: Map<string, NodeStatus>): void {
    for (const [name, roamer] of this.#roamers) {
      const node = nodes.get(name);
      if (node === undefined || node.health === "down") {
        this.#apply(name, roamer, { type: "lost" }, node === undefined ? "it left the cluster" : "it is down");
        if (node === undefined && roamer.record.state === "IDLE") this.#roamers.delete(name);
      }
    }
    for (const [name, node] of nodes) {
      if (node.health === "down") continue;
      const roamer = this.#roamerOf(name);
      this.#apply(name, roamer, { type: "reported", report: node.assignment ?? null }, "its report");
      if (node.inFlight > 0 || this.#o.inFlight(name) > 0) roamer.busyAtMs = this.#now();
    }
  }

  #apply(name: string, roamer: Roamer, event: RoamerEvent, why: string): void {
    const before = roamer.record;
    const transition = nextRoamerState(before, event, this.#now());
    if (!transition.ok) throw new FlotillaError("conflict", `roamer ${name} cannot ${transition.reason}`);
    if (!transition.changed) return;
    roamer.record = transition.record;
    if (transition.record.state !== before.state) {
      roamer.history.push({ state: transition.record.state, atMs: transition.record.sinceMs });
      if (roamer.history.length > HISTORY) roamer.history.shift();
    }
    // A new wish is sent at once, not after resendMs.
    roamer.sentAtMs = 0;
    const { state, lending } = transition.record;
    if (lending !== null && state !== "CLEANUP") this.#o.book.lend(name, lending.pool);
    else this.#o.book.unlend(name);
    if (state === "RUNNING" && before.state !== "RUNNING") roamer.busyAtMs = this.#now();
    const details = { roamer: name, from: before.state, to: state, pool: lending?.pool ?? before.lending?.pool, template: lending?.template ?? before.lending?.template };
    if (transition.record.lastError !== null && transition.record.lastError !== before.lastError) this.#o.log.warn({ ...details, error: transition.record.lastError }, `roamer ${state}: ${why}`);
    else this.#o.log.info(details, `roamer ${state}: ${why}`);
  }

  async #autoscale(nodes: Map<string, NodeStatus>): Promise<void> {
    const now = this.#now();
    const all = this.#o.nodes();
    const pools: PoolInput[] = [];
    for (const name of this.#o.book.declared()) {
      const pool = this.#o.book.pool(name);
      if (pool === undefined) continue;
      const demand = await this.#o.demand(name);
      const { ready, dedicated, dedicatedReady } = this.#workersOf(name, all);
      pools.push({
        name,
        templates: pool.templates,
        releaseAfterMs: pool.release_after,
        demand: demand.queuedJobs + demand.waitingRequests,
        // A roamer counts once it runs; before, it is the autoscaler's "pending".
        activeWorkers: ready.filter((node) => node.pool !== ROAMER_POOL || this.#roamers.get(node.name)?.record.state === "RUNNING").length,
        dedicated: dedicated.length,
        dedicatedReady: dedicatedReady.length,
        lastLentAtMs: this.#lastLentAtMs.get(name) ?? null,
      });
      // A pool with work waiting keeps its roamers busy, whatever their own in-flight count.
      if (demand.queuedJobs + demand.waitingRequests + demand.runningJobs > 0) {
        for (const roamer of this.#roamers.values()) if (roamer.record.lending?.pool === name) roamer.busyAtMs = now;
      }
    }
    const roamers: RoamerInput[] = [...nodes].map(([name, node]) => {
      const roamer = this.#roamerOf(name);
      const lending = roamer.record.lending;
      return {
        name,
        state: roamer.record.state,
        ready: node.health === "ready" && !node.drained,
        templates: node.templates ?? [],
        lending: lending === null ? null : { pool: lending.pool, template: lending.template, duration: lending.duration, lentAtMs: lending.lentAtMs },
        busyAtMs: roamer.busyAtMs,
      };
    });
    for (const action of planRoamers({ pools, roamers, nowMs: now, settings: { overflowFactor: 2, cooldownMs: this.#o.settings.cooldownMs, maxRoamersPerPool: this.#o.settings.maxPerPool } })) {
      this.#act(action, now);
    }
  }

  #act(action: AutoscalerAction, now: number): void {
    const roamer = this.#roamerOf(action.roamer);
    if (action.type === "lend") {
      const lending: Lending = { id: newAssignmentId(), pool: action.pool, template: action.template, duration: "until-idle", by: "autoscaler", reason: action.reason, lentAtMs: now };
      this.#apply(action.roamer, roamer, { type: "assign", lending }, `the autoscaler (${action.reason})`);
      this.#lastLentAtMs.set(action.pool, now);
    } else {
      this.#apply(action.roamer, roamer, { type: "release", reason: action.reason }, `the autoscaler (${action.reason})`);
    }
  }

  /** Sends the record's wish to the agent, unless one is under way or its report already agrees. */
  #pursue(name: string, roamer: Roamer, node: NodeStatus | undefined): void {
    if (node === undefined || node.health === "down" || roamer.sending) return;
    const { state, lending } = roamer.record;
    const report = node.assignment ?? null;
    let change: AssignmentRequest | null;
    if (state === "IDLE") return;
    if (state === "CLEANUP") {
      if (report === null || report.state === "stopped" || report.state === "stopping") return;
      change = null;
    } else {
      if (lending === null) return;
      if (report?.id === lending.id && state !== "ASSIGNED") return;
      change = { id: lending.id, template: lending.template, pool: lending.pool };
    }
    const now = this.#now();
    if (now - roamer.sentAtMs < (this.#o.resendMs ?? 2_000)) return;
    roamer.sending = true;
    roamer.sentAtMs = now;
    const sent = this.#send(name, roamer, change).finally(() => {
      roamer.sending = false;
      this.#inFlight.delete(sent);
    });
    this.#inFlight.add(sent);
  }

  async #send(name: string, roamer: Roamer, change: AssignmentRequest | null): Promise<void> {
    try {
      const report = await this.#o.agents.assignment(name, change, this.#abort.signal);
      if (change !== null && roamer.record.state === "ASSIGNED" && roamer.record.lending?.id === change.id) this.#apply(name, roamer, { type: "accepted" }, "the agent took the assignment");
      this.#apply(name, roamer, { type: "reported", report }, "the agent's answer");
    } catch (err) {
      if (this.#abort.signal.aborted) return;
      const refused = err instanceof FlotillaError && (err.code === "rejected_by_node" || err.code === "conflict");
      if (refused && change !== null && roamer.record.state === "ASSIGNED" && roamer.record.lending?.id === change.id) {
        this.#apply(name, roamer, { type: "refused", error: err.message }, "the agent refused");
      } else {
        // Not reachable now: the wish is sent again after resendMs, or the roamer goes down and is lost.
        this.#o.log.warn({ roamer: name, err: err instanceof Error ? err.message : String(err) }, "could not reach a roamer; trying again");
      }
    }
  }

  #choose(node: NodeStatus, body: AssignRoamerRequest): { pool: string; template: string } {
    const book = this.#o.book;
    const listed = new Set(node.templates ?? []);
    if (body.template !== undefined) {
      if (book.template(body.template) === undefined) throw new FlotillaError("invalid_request", `no template is named "${body.template}" in the cluster file`, { param: "template" });
      if (!listed.has(body.template)) throw new FlotillaError("invalid_request", `roamer ${node.name} does not list template "${body.template}" in its configuration`, { param: "template" });
      const pool = body.pool ?? book.declared().find((name) => book.pool(name)?.templates.includes(body.template ?? ""));
      if (pool === undefined) throw new FlotillaError("invalid_request", `no declared pool uses template "${body.template}": name the pool too`, { param: "pool" });
      if (book.pool(pool) === undefined) throw new FlotillaError("invalid_request", `no pool '${pool}' is declared in the cluster file`, { param: "pool" });
      return { pool, template: body.template };
    }
    const pool = body.pool ?? "";
    const declared = book.pool(pool);
    if (declared === undefined) throw new FlotillaError("invalid_request", `no pool '${pool}' is declared in the cluster file`, { param: "pool" });
    const template = declared.templates.find((name) => listed.has(name));
    if (template === undefined) {
      throw new FlotillaError("invalid_request", `roamer ${node.name} lists none of pool '${pool}''s templates (${declared.templates.join(", ") || "none"})`, { param: "pool" });
    }
    return { pool, template };
  }

  #view(name: string, roamer: Roamer, node: NodeStatus | undefined): RoamerView {
    const now = this.#now();
    const { record } = roamer;
    return {
      name,
      state: record.state,
      stateAgeMs: Math.max(0, now - record.sinceMs),
      health: node?.health ?? "down",
      templates: node?.templates ?? [],
      pool: record.lending?.pool ?? null,
      template: record.lending?.template ?? null,
      duration: record.lending?.duration ?? null,
      assignedBy: record.lending?.by ?? null,
      reason: record.lending?.reason ?? null,
      lentForMs: record.lending === null ? null : Math.max(0, now - record.lending.lentAtMs),
      lastError: record.lastError,
      history: roamer.history.map((entry) => ({ ...entry })),
    };
  }
}

function newAssignmentId(): string {
  return randomUUID().replaceAll("-", "");
}
