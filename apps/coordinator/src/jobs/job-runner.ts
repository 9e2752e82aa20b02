// Runs text jobs (chat, completion, embedding) on the coordinator: leases
// them from the queue, hands each to the dispatcher, so a job takes the same
// routing, retries, failover and busy queue as a /v1 request, on any kind of
// node, and settles it with its rendered answer (docs/adr/0035).
//
// One job's run, as the lease sees it:
//   lease ─▶ start ─▶ dispatch ─┬─ answer ─────────────▶ complete
//                  ▲            ├─ busy / model not served yet ─▶ wait, dispatch again (the lease is held and renewed)
//                  └────────────┤
//                               ├─ other failure ─────▶ fail (retryable or not, as the error says)
//                               └─ aborted ───────────▶ nothing: cancelled, lease lost, or stopping
// The lease is renewed every leaseMs/3; a renew that says `cancelled` or
// `lost` aborts the dispatch, which stops the work on its node at once.
import { FlotillaError, type Chunk } from "@flotilla/protocol";
import type { Service } from "@flotilla/lifecycle";
import type { DispatchRequest, DispatchResult, GenerationDispatcher } from "../dispatch/types.ts";
import type { Job, JobKind } from "./job.ts";
import type { JobQueue, Lease } from "./job-queue.ts";
import type { TextJobResult } from "./text-job-result.ts";

/** What a job becomes for the dispatcher, and how its answer is kept. */
export interface PlannedJob {
  request: Pick<DispatchRequest, "workload" | "hints" | "continueOnFailure">;
  /** The answer's token budget, for progress; null when it has none (embeddings). */
  maxTokens: number | null;
  /** The answer as /v1 would send it. */
  render(answer: DispatchResult): unknown;
}

/** Throws a FlotillaError for an input that cannot run (a bad input fails the job at once). */
export type PlanJob = (job: Job) => PlannedJob;

export interface JobRunnerLog {
  warn(details: Record<string, unknown>, message: string): void;
}

export interface JobRunnerOptions {
  queue: JobQueue;
  dispatcher: GenerationDispatcher;
  plan: PlanJob;
  kinds: readonly JobKind[];
  /** The pools to lease from, asked before each round. */
  pools: () => readonly string[];
  workerId: string;
  leaseMs: number;
  /** Jobs run at once; more wait in the queue, where they keep their place and position. */
  concurrency: number;
  log: JobRunnerLog;
  /** How often to look for work besides being woken by the queue: backoffs ending, other coordinators' jobs. */
  pollMs?: number;
  /** The wait before dispatching again when the cluster is busy or no node serves the model yet. */
  busyRetryMs?: number;
  /** How long a job may wait so before it fails (retryably, so the queue tries it again later). */
  busyPatienceMs?: number;
  /**
   * How long a job waits for its model to be served before it fails: after a
   * restart the agents rejoin within 3 heartbeats and `flotilla up` loads its
   * model, so an unknown model is not at once a wrong one.
   */
  modelPatienceMs?: number;
  progressEveryMs?: number;
  nowMs?: () => number;
}

/** Codes that mean "not now" rather than "not this job": waited out while holding the lease. */
const BUSY_CODES = new Set(["server_busy", "no_backend"]);

interface Running {
  controller: AbortController;
  job: Job;
  startedAtMs: number;
  nodes: string[];
}

/** A pool's measured pace: what an ETA is computed from. */
export interface PoolPace {
  /** Mean run time of the last jobs that succeeded (an exponential average); null before the first. */
  meanRunMs: number | null;
  running: number;
}

export class JobRunner implements Service {
  readonly name = "job runner";
  readonly #o: Required<JobRunnerOptions>;
  readonly #running = new Map<string, Running>();
  readonly #settling = new Set<Promise<void>>();
  readonly #meanRunMs = new Map<string, number>();
  #unsubscribe: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #pumping = false;
  #pumpAgain = false;
  #stopped = true;

  constructor(options: JobRunnerOptions) {
    this.#o = { pollMs: 1000, busyRetryMs: 1000, busyPatienceMs: 120_000, modelPatienceMs: 30_000, progressEveryMs: 1000, nowMs: Date.now, ...options };
  }

  start(): void {
    this.#stopped = false;
    this.#unsubscribe = this.#o.queue.subscribe((change) => {
      if (change.type !== "state") return;
      if (change.job.state === "cancelled") this.#running.get(change.job.id)?.controller.abort(new Error("the job was cancelled"));
      // Enqueued, retried or expired: there may be work to lease.
      if (change.job.state === "queued" && this.#o.kinds.includes(change.job.kind)) this.#pump();
    });
    this.#timer = setInterval(() => this.#pump(), this.#o.pollMs);
    this.#timer.unref();
    this.#pump();
  }

  /** Aborts what runs; its leases expire and the jobs run again after a restart (at least once). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    clearInterval(this.#timer);
    for (const run of this.#running.values()) run.controller.abort(new Error("the coordinator is stopping"));
    await Promise.allSettled([...this.#settling]);
  }

  /** The nodes answering a job this runner runs now; empty when it runs none. */
  nodesOf(id: string): string[] {
    return [...(this.#running.get(id)?.nodes ?? [])];
  }

  pace(pool: string): PoolPace {
    let running = 0;
    for (const run of this.#running.values()) if (run.job.pool === pool) running += 1;
    return { meanRunMs: this.#meanRunMs.get(pool) ?? null, running };
  }

  get concurrency(): number {
    return this.#o.concurrency;
  }

  /** Leases while there is room; one pump at a time, and a wake during one runs another after it. */
  #pump(): void {
    if (this.#stopped) return;
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    void this.#fill()
      .catch((err: unknown) => this.#o.log.warn({ err }, "could not lease jobs"))
      .finally(() => {
        this.#pumping = false;
        if (this.#pumpAgain) {
          this.#pumpAgain = false;
          this.#pump();
        }
      });
  }

  async #fill(): Promise<void> {
    let leasedAny = true;
    // Round-robin over the pools, one lease each per round, so one busy pool cannot starve another.
    while (leasedAny && !this.#stopped && this.#running.size < this.#o.concurrency) {
      leasedAny = false;
      for (const pool of this.#o.pools()) {
        if (this.#stopped || this.#running.size >= this.#o.concurrency) return;
        const lease = await this.#o.queue.lease({ pool, kinds: this.#o.kinds, workerId: this.#o.workerId, leaseMs: this.#o.leaseMs });
        if (lease === null) continue;
        leasedAny = true;
        this.#run(lease);
      }
    }
  }

  #run(lease: Lease): void {
    const run: Running = { controller: new AbortController(), job: lease.job, startedAtMs: this.#o.nowMs(), nodes: [] };
    this.#running.set(lease.job.id, run);
    const settled = this.#execute(lease, run)
      .catch((err: unknown) => this.#o.log.warn({ err, job: lease.job.id }, "a job's run failed unexpectedly"))
      .finally(() => {
        this.#running.delete(lease.job.id);
        this.#settling.delete(settled);
        this.#pump();
      });
    this.#settling.add(settled);
  }

  async #execute(lease: Lease, run: Running): Promise<void> {
    const { queue } = this.#o;
    const { job, token } = lease;
    const renewal = setInterval(() => {
      void queue.renew(job.id, token, this.#o.leaseMs).then(
        (outcome) => {
          if (outcome.status !== "ok") run.controller.abort(new Error(`the lease is ${outcome.status}`));
        },
        (err: unknown) => this.#o.log.warn({ err, job: job.id }, "could not renew a job's lease"),
      );
    }, Math.max(1, Math.floor(this.#o.leaseMs / 3)));
    try {
      let planned: PlannedJob;
      try {
        planned = this.#o.plan(job);
      } catch (err) {
        await queue.fail(job.id, token, messageOf(err), { retryable: false });
        return;
      }
      if ((await queue.start(job.id, token)).status !== "ok") return;
      const answer = await this.#dispatch(job, token, planned, run);
      if (answer === null) return;
      const result: TextJobResult = { response: planned.render(answer), nodes: answer.nodes };
      const outcome = await queue.complete(job.id, token, result);
      if (outcome.status === "ok") this.#recordRun(job.pool, this.#o.nowMs() - run.startedAtMs);
    } finally {
      clearInterval(renewal);
    }
  }

  /** The answer, or null when the job was settled (failed) or given up (aborted) here. */
  async #dispatch(job: Job, token: number, planned: PlannedJob, run: Running): Promise<DispatchResult | null> {
    const { queue } = this.#o;
    const { signal } = run.controller;
    const startedMs = this.#o.nowMs();
    let tokens = 0;
    let lastProgressMs = 0;
    for (;;) {
      try {
        return await this.#o.dispatcher.run({
          ...planned.request,
          // Interactive /v1 requests go first; jobs keep their own order in their queue.
          priority: "low",
          signal,
          onAnswering: (decision) => run.nodes.push(decision.node),
          onChunk: (chunk: Chunk) => {
            if (chunk.type !== "text") return;
            tokens += chunk.tokens ?? 1;
            const nowMs = this.#o.nowMs();
            if (nowMs - lastProgressMs < this.#o.progressEveryMs) return;
            lastProgressMs = nowMs;
            const fraction = planned.maxTokens === null ? 0 : tokens / planned.maxTokens;
            void queue.progress(job.id, token, Math.min(0.99, fraction), `${tokens} tokens from ${run.nodes.at(-1) ?? "?"}`).catch(() => {});
          },
        });
      } catch (err) {
        if (signal.aborted) return null;
        const patienceMs = !(err instanceof FlotillaError)
          ? 0
          : BUSY_CODES.has(err.code)
            ? this.#o.busyPatienceMs
            : err.code === "model_not_found"
              ? this.#o.modelPatienceMs
              : 0;
        if (this.#o.nowMs() - startedMs >= patienceMs) {
          const retryable = err instanceof FlotillaError ? err.retryable : true;
          await queue.fail(job.id, token, messageOf(err), { retryable });
          return null;
        }
        // Said where a client looks: the job's progress message.
        void queue.progress(job.id, token, 0, `waiting: ${messageOf(err)}`).catch(() => {});
        if (!(await this.#wait(signal))) return null;
      }
    }
  }

  /** Waits busyRetryMs unless aborted first; false when aborted. */
  #wait(signal: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve(true);
      }, this.#o.busyRetryMs);
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  #recordRun(pool: string, ms: number): void {
    const mean = this.#meanRunMs.get(pool);
    // An exponential average: recent jobs count most, and one outlier does not swing the ETA.
    this.#meanRunMs.set(pool, mean === undefined ? ms : mean * 0.8 + ms * 0.2);
  }
}

function messageOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 2000);
}
