// Runs text jobs (chat, completion, embedding) on the coordinator: leases
// them from the queue, hands each to the dispatcher, so a job takes the same
// routing, retries, failover and busy queue as a /v1 request, on any kind of
// node, and settles it with its rendered answer (docs/adr/0035).
//
// Leasing, renewing and aborting are lease-loop.ts's. One job's run, as the lease sees it:
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
import type { Job } from "./job.ts";
import type { Lease } from "./job-queue.ts";
import type { TextJobResult } from "./text-job-result.ts";
import { LeaseLoop, type LeaseLoopLog, type LeaseLoopOptions } from "./lease-loop.ts";

/** What a job becomes for the dispatcher, and how its answer is kept. */
export interface PlannedJob {
  request: Pick<DispatchRequest, "workload" | "hints" | "continueOnFailure">;
  /** The answer's token budget, for progress; null when it has none (embeddings). */
  maxTokens: number | null;
  /** The answer as /v1 would send it (a media answer: after its file is stored). */
  render(answer: DispatchResult): unknown;
}

/** Throws (or rejects with) a FlotillaError for an input that cannot run: a bad input fails the job at once. */
export type PlanJob = (job: Job) => PlannedJob | Promise<PlannedJob>;

export type JobRunnerLog = LeaseLoopLog;

export interface JobRunnerOptions extends Omit<LeaseLoopOptions, "work"> {
  dispatcher: GenerationDispatcher;
  plan: PlanJob;
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
  readonly #loop: LeaseLoop;
  readonly #running = new Map<string, Running>();
  readonly #meanRunMs = new Map<string, number>();

  constructor(options: JobRunnerOptions) {
    this.#o = { pollMs: 1000, busyRetryMs: 1000, busyPatienceMs: 120_000, modelPatienceMs: 30_000, progressEveryMs: 1000, nowMs: Date.now, ...options };
    this.#loop = new LeaseLoop({ ...this.#o, work: (lease, signal) => this.#execute(lease, signal) });
  }

  start(): void {
    this.#loop.start();
  }

  /** Aborts what runs; its leases expire and the jobs run again after a restart (at least once). */
  stop(): Promise<void> {
    return this.#loop.stop();
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

  async #execute(lease: Lease, signal: AbortSignal): Promise<void> {
    const { queue } = this.#o;
    const { job, token } = lease;
    const run: Running = { job, startedAtMs: this.#o.nowMs(), nodes: [] };
    this.#running.set(job.id, run);
    try {
      let planned: PlannedJob;
      try {
        planned = await this.#o.plan(job);
      } catch (err) {
        // A bad input fails at once; anything else (a store closing under it) is worth another attempt.
        await queue.fail(job.id, token, messageOf(err), { retryable: err instanceof FlotillaError ? err.retryable : true });
        return;
      }
      if ((await queue.start(job.id, token)).status !== "ok") return;
      const answer = await this.#dispatch(job, token, planned, run, signal);
      if (answer === null) return;
      const result: TextJobResult = { response: await planned.render(answer), nodes: answer.nodes };
      const outcome = await queue.complete(job.id, token, result);
      if (outcome.status === "ok") this.#recordRun(job.pool, this.#o.nowMs() - run.startedAtMs);
    } finally {
      this.#running.delete(job.id);
    }
  }

  /** The answer, or null when the job was settled (failed) or given up (aborted) here. */
  async #dispatch(job: Job, token: number, planned: PlannedJob, run: Running, signal: AbortSignal): Promise<DispatchResult | null> {
    const { queue } = this.#o;
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
