// The coordinator's jobs, put together (issue 12): the queue (jobs.db in the
// data directory, or Redis with BullMQ for `--queue redis://…`), the sweeper
// that takes back dead workers' leases, the pools it knows of, and the runner
// for text jobs. index.ts builds it after the dispatcher and stops it before
// the HTTP app's connections are gone (docs/adr/0035).
import path from "node:path";
import { hostname } from "node:os";
import { SPEECH_JOB_KINDS, TEXT_JOB_KINDS, type SpeechJobKind } from "@flotilla/protocol";
import type { Service } from "@flotilla/lifecycle";
import type { GenerationDispatcher } from "../dispatch/types.ts";
import { DEFAULT_POOL, type Job, type JobKind } from "./job.ts";
import type { JobQueue } from "./job-queue.ts";
import { SqliteJobQueue } from "./sqlite-job-queue.ts";
import { BullMqJobQueue } from "./bullmq-job-queue.ts";
import { startJobSweeper } from "./job-sweeper.ts";
import { JobRunner, type JobRunnerLog, type PlanJob } from "./job-runner.ts";
import { KnownPools } from "./known-pools.ts";
import { nodesOfResult } from "./text-job-result.ts";
import { SplitRunner } from "./split/split-runner.ts";

export interface JobsConfig {
  /** Where jobs live: omitted for jobs.db in the data directory, or redis://HOST:PORT[/DB]. */
  queueUrl?: string;
  /** Text jobs run at once by this coordinator; default 4. */
  concurrency?: number;
  /** A lease not renewed for this long goes back to the queue; default 3 heartbeat intervals. */
  leaseMs?: number;
  /** Jobs one key may have queued at once; default 1,000. */
  maxQueuedPerKey?: number;
  /** Jobs queued at once in all; default 100,000. */
  maxQueued?: number;
}

export const DEFAULT_JOB_CONCURRENCY = 4;
export const DEFAULT_MAX_QUEUED_PER_KEY = 1000;
export const DEFAULT_MAX_QUEUED = 100_000;

export interface JobServiceDeps {
  dataDir: string;
  heartbeatIntervalMs: number;
  dispatcher: GenerationDispatcher;
  /** How a text or speech job becomes a dispatch (gateway/jobs). */
  plan: PlanJob;
  /** Whether some node serves the engine a speech job kind needs, now. */
  speechServed: (kind: SpeechJobKind) => boolean;
  /** The declared pool that takes a kind of work, when one does (pools/pool-book.ts); else the kind's DEFAULT_POOL. */
  declaredPoolOf?: (kind: JobKind) => string | undefined;
  log: JobRunnerLog;
}

export class JobService {
  readonly queue: JobQueue;
  readonly runner: JobRunner;
  readonly splits: SplitRunner;
  readonly pools: KnownPools;
  readonly #runsNow: () => readonly JobKind[];
  readonly limits: { maxQueuedPerKey: number; maxQueued: number };
  readonly leaseMs: number;
  readonly #declaredPoolOf: (kind: JobKind) => string | undefined;

  private constructor(queue: JobQueue, runner: JobRunner, splits: SplitRunner, pools: KnownPools, config: JobsConfig, leaseMs: number, runsNow: () => readonly JobKind[], declaredPoolOf: (kind: JobKind) => string | undefined) {
    this.#runsNow = runsNow;
    this.#declaredPoolOf = declaredPoolOf;
    this.queue = queue;
    this.runner = runner;
    this.splits = splits;
    this.pools = pools;
    this.leaseMs = leaseMs;
    this.limits = { maxQueuedPerKey: config.maxQueuedPerKey ?? DEFAULT_MAX_QUEUED_PER_KEY, maxQueued: config.maxQueued ?? DEFAULT_MAX_QUEUED };
  }

  static async open(config: JobsConfig, deps: JobServiceDeps): Promise<JobService> {
    const queue: JobQueue =
      config.queueUrl === undefined ? new SqliteJobQueue(path.join(deps.dataDir, "jobs.db")) : new BullMqJobQueue({ url: config.queueUrl });
    try {
      const pools = new KnownPools(Object.values(DEFAULT_POOL));
      await pools.learnFrom(queue);
      const leaseMs = config.leaseMs ?? 3 * deps.heartbeatIntervalMs;
      // Text jobs always (they wait for their model inside their run); speech jobs while some node has the engine.
      const runsNow = (): readonly JobKind[] => [...TEXT_JOB_KINDS, ...SPEECH_JOB_KINDS.filter((kind) => deps.speechServed(kind))];
      // Unique per process, so a restarted coordinator is a new worker to the queue.
      const workerId = `coordinator@${hostname()}:${process.pid}`;
      const runner = new JobRunner({
        queue,
        dispatcher: deps.dispatcher,
        plan: deps.plan,
        kinds: runsNow,
        pools: () => pools.list(),
        workerId,
        leaseMs,
        concurrency: config.concurrency ?? DEFAULT_JOB_CONCURRENCY,
        log: deps.log,
      });
      const splits = new SplitRunner({ queue, pools: () => pools.list(), workerId, leaseMs, log: deps.log });
      const declaredPoolOf = deps.declaredPoolOf ?? (() => undefined);
      for (const kind of TEXT_JOB_KINDS) {
        const pool = declaredPoolOf(kind);
        if (pool !== undefined) pools.add(pool);
      }
      return new JobService(queue, runner, splits, pools, config, leaseMs, runsNow, declaredPoolOf);
    } catch (err) {
      await queue.close();
      throw err;
    }
  }

  /**
   * The queue's own lifetime and the sweeper's, in the order they start. The
   * runners are workers(): started after what their jobs use (the file store,
   * the webhooks), so they stop before it.
   */
  services(log: JobRunnerLog): Service[] {
    let stopSweeper: (() => void) | undefined;
    let unlearn: (() => void) | undefined;
    return [
      { name: "job queue", start: () => {}, stop: () => this.queue.close() },
      {
        name: "job sweeper",
        start: () => {
          unlearn = this.queue.subscribe((change) => this.pools.add(change.job.pool));
          stopSweeper = startJobSweeper(this.queue, {
            intervalMs: Math.max(250, Math.floor(this.leaseMs / 3)),
            onError: (err) => log.warn({ err }, "a sweep of expired job leases failed"),
          });
        },
        stop: () => {
          stopSweeper?.();
          unlearn?.();
          return Promise.resolve();
        },
      },
    ];
  }

  /** The text and split runners, in the order they start. */
  workers(): Service[] {
    return [this.runner, this.splits];
  }

  /** The pool a job of this kind goes to when it names none: the declared pool of its kind, else its default. */
  defaultPool(kind: JobKind): string {
    return this.#declaredPoolOf(kind) ?? DEFAULT_POOL[kind];
  }

  /** The kinds this coordinator runs now: text jobs, split runs over them, speech jobs while a node has the engine. */
  servedKinds(): JobKind[] {
    return [...this.#runsNow(), "split"];
  }

  /** The nodes that answered a job or answer it now. */
  nodesOf(job: Job): string[] {
    const done = nodesOfResult(job.result);
    return done.length > 0 ? done : this.runner.nodesOf(job.id);
  }
}
