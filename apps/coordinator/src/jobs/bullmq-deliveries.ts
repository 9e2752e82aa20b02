// The BullMQ side of the Redis queue: one BullMQ queue per pool and kind
// (docs/adr/0034 says why not one per pool), worked by hand — a Worker with
// no processor, getNextJob(token) to take a job with a lock, extendLock to
// hold it, moveToCompleted / moveToFailed with the lock token to let it go.
// A BullMQ job here is one *delivery* of a flotilla job: each time the job
// is queued again it gets a new one, `${id}-${n}`, so a stale delivery can
// be told apart and dropped.
import { Queue, Worker, type Job as BullJob } from "bullmq";
import type { Redis } from "ioredis";
import { z } from "zod";
import type { JobKind } from "./job.ts";
import { PRIORITY_RANK } from "./job-lifecycle.ts";
import type { JobDoc } from "./redis-job-records.ts";

const deliveryData = z.object({ id: z.string(), delivery: z.int() });
export type DeliveryData = z.infer<typeof deliveryData>;

/** BullMQ's lock outlives our lease by this much, so the lease (our clock) always decides, never the lock. */
export const LOCK_GRACE_MS = 60_000;

export interface TakenDelivery {
  data: DeliveryData | null;
  bull: BullJob;
}

interface PoolKindQueue {
  queue: Queue;
  /** Made on the first take: a coordinator that only enqueues needs none. */
  worker: Worker | null;
}

export function deliveryId(id: string, delivery: number): string {
  return `${id}-${delivery}`;
}

export class BullMqDeliveries {
  readonly #connection: Redis;
  readonly #prefix: string;
  readonly #queues = new Map<string, PoolKindQueue>();

  readonly #stalledIntervalMs: number;

  constructor(connection: Redis, prefix: string, stalledIntervalMs: number) {
    this.#connection = connection;
    this.#prefix = prefix;
    this.#stalledIntervalMs = stalledIntervalMs;
  }

  /** Adds the delivery for the doc's current queuing; adding it twice is a no-op (same BullMQ job id). */
  async add(doc: JobDoc): Promise<void> {
    const { job } = doc;
    await this.#of(job.pool, job.kind).add(job.kind, { id: job.id, delivery: doc.delivery } satisfies DeliveryData, {
      jobId: deliveryId(job.id, doc.delivery),
      // BullMQ: 1 is served first; 0 would mean "no priority", served before all of them.
      priority: PRIORITY_RANK[job.priority] + 1,
      attempts: 1,
      removeOnComplete: true,
      removeOnFail: true,
    });
  }

  /** The next delivery of the pool and kind, locked with `lockToken` for `lockMs`; null when none is waiting. */
  async take(pool: string, kind: JobKind, lockToken: string, lockMs: number): Promise<TakenDelivery | null> {
    const worker = this.#workerOf(pool, kind, lockMs);
    const bull = await worker.getNextJob(lockToken, { block: false });
    if (bull === undefined) return null;
    // The worker locks for its own lockDuration: the first lease length it was made for.
    if (worker.opts.lockDuration !== lockMs) await bull.extendLock(lockToken, lockMs);
    const parsed = deliveryData.safeParse(bull.data);
    return { data: parsed.success ? parsed.data : null, bull };
  }

  /** `taken`: the BullMQ job as take() gave it, which saves looking it up. */
  async extend(doc: JobDoc, lockMs: number, taken?: BullJob): Promise<void> {
    const bull = taken ?? (await this.#find(doc));
    if (bull !== undefined && doc.lockToken !== null) await bull.extendLock(doc.lockToken, lockMs);
  }

  /** The lease's delivery is done; best effort: the job's record has already decided. */
  async complete(doc: JobDoc, result: unknown, taken?: BullJob): Promise<void> {
    await this.#settle(doc, taken, (bull, token) => bull.moveToCompleted(result, token, false));
  }

  /** The lease's delivery is over without success (failed, expired, cancelled, stale). */
  async retire(doc: JobDoc, reason: string, taken?: BullJob): Promise<void> {
    await this.#settle(doc, taken, (bull, token) => bull.moveToFailed(new Error(reason), token, false));
  }

  /** Drops a delivery taken by mistake (stale or malformed) with the lock it was taken with. */
  async drop(bull: BullJob, lockToken: string, reason: string): Promise<void> {
    await bull.moveToFailed(new Error(reason), lockToken, false).catch(() => bull.remove().catch(() => undefined));
  }

  /** Hands a taken delivery back to BullMQ's queue, as it was. */
  async putBack(bull: BullJob, lockToken: string): Promise<void> {
    await bull.moveToWait(lockToken);
  }

  /** Removes a waiting delivery of a cancelled job; a lease that took it meanwhile finds the job cancelled and drops it. */
  async removeWaiting(doc: JobDoc): Promise<void> {
    await this.#of(doc.job.pool, doc.job.kind).remove(deliveryId(doc.job.id, doc.delivery)).catch(() => undefined);
  }

  async close(): Promise<void> {
    const all = [...this.#queues.values()];
    this.#queues.clear();
    await Promise.all(all.map(async ({ queue, worker }) => {
      await worker?.close(true);
      await queue.close();
    }));
  }

  async #settle(doc: JobDoc, taken: BullJob | undefined, move: (bull: BullJob, token: string) => Promise<unknown>): Promise<void> {
    const bull = taken ?? (await this.#find(doc));
    if (bull === undefined) return;
    try {
      if (doc.lockToken === null) throw new Error("no lock token");
      await move(bull, doc.lockToken);
    } catch {
      // The lock is gone (a coordinator was down past the grace): nothing
      // holds the delivery, so it can simply be removed.
      await bull.remove().catch(() => undefined);
    }
  }

  async #find(doc: JobDoc): Promise<BullJob | undefined> {
    const queue = this.#of(doc.job.pool, doc.job.kind);
    return (await queue.getJob(deliveryId(doc.job.id, doc.delivery))) ?? undefined;
  }

  #of(pool: string, kind: JobKind): Queue {
    return this.#entry(pool, kind).queue;
  }

  #entry(pool: string, kind: JobKind): PoolKindQueue {
    // Pool names are [a-z0-9_-] (the protocol's poolName): no ':' for BullMQ to refuse.
    const name = `${pool}.${kind}`;
    let entry = this.#queues.get(name);
    if (entry === undefined) {
      const queue = new Queue(name, { connection: this.#connection, prefix: this.#prefix });
      // Connection errors are answered where a call fails; an unlistened 'error' would crash the process.
      queue.on("error", () => undefined);
      entry = { queue, worker: null };
      this.#queues.set(name, entry);
    }
    return entry;
  }

  /** The pool and kind's worker, made on the first take, its lock as long as that take's. */
  #workerOf(pool: string, kind: JobKind, lockMs: number): Worker {
    const entry = this.#entry(pool, kind);
    if (entry.worker === null) {
      const worker = new Worker(entry.queue.name, null, {
        connection: this.#connection,
        prefix: this.#prefix,
        autorun: false,
        lockDuration: lockMs,
        // BullMQ's stalled check is the repair for one crash window only: a
        // coordinator that died after taking a delivery and before recording
        // the lease leaves it locked, and once that lock lapses the check puts
        // it back in the queue. Our leases expire on our clock long before
        // their lock (LOCK_GRACE_MS), so this never decides a live job, and
        // it must never fail one for stalling: the record counts attempts.
        stalledInterval: this.#stalledIntervalMs,
        maxStalledCount: Number.MAX_SAFE_INTEGER,
      });
      worker.on("error", () => undefined);
      void worker.startStalledCheckTimer().catch(() => undefined);
      entry.worker = worker;
    }
    return entry.worker;
  }
}
