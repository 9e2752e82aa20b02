// The Redis job queue, for several coordinators and large volumes: BullMQ
// hands each delivery to one worker (bullmq-deliveries.ts), our own records
// beside it (redis-job-records.ts) hold what BullMQ's model lacks, and
// job-lifecycle.ts decides every change, as for SQLite. The record decides;
// BullMQ follows it. Where they can disagree after a crash (a delivery of a
// job that was meanwhile cancelled or re-queued), the record wins and the
// delivery is dropped when it is taken (docs/adr/0034).
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import type { Job as BullJob } from "bullmq";
import { jobSpecSchema, newJob, type Job, type JobSpecInput } from "./job.ts";
import { JOB_STATES, isLeased, isTerminal } from "./job-state.ts";
import {
  assertLeaseMs,
  cancelJob,
  completeJob,
  expireJob,
  failJob,
  leaseJob,
  progressJob,
  renewJob,
  startJob,
  type Applied,
} from "./job-lifecycle.ts";
import { JobListeners } from "./job-listeners.ts";
import {
  clampLimit,
  parseListCursor,
  resolveJobQueueOptions,
  type JobQueueOptions,
  type ResolvedJobQueueOptions,
} from "./job-queue-options.ts";
import {
  zeroCounts,
  type CancelOutcome,
  type JobCounts,
  type JobFilter,
  type JobListener,
  type JobQueue,
  type Lease,
  type LeaseOutcome,
  type LeaseRequest,
  type ListPage,
} from "./job-queue.ts";
import { RedisJobRecords, queueScore, type JobDoc, type StoredDoc } from "./redis-job-records.ts";
import { RedisScript } from "./redis-scripts.ts";
import { BullMqDeliveries, LOCK_GRACE_MS, deliveryId } from "./bullmq-deliveries.ts";

export interface BullMqJobQueueOptions extends JobQueueOptions {
  /** redis://HOST:PORT */
  url: string;
  /** Every key this queue writes starts with it; two clusters on one Redis use two prefixes. */
  prefix?: string;
  /** How often BullMQ looks for deliveries whose lock lapsed (bullmq-deliveries.ts); 5 s by default. */
  stalledIntervalMs?: number;
}

/** A compare-and-set that lost this many races in a row means something is wrong, not busy. */
const MAX_COMMIT_ATTEMPTS = 20;

// Removes a pending entry only if it is still the one that was read: a
// requeue meanwhile wrote a newer one, which must stay.
const ZREM_IF_SCORE = new RedisScript(`
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0`);

/** The owner and parent indexes (redis-job-records.ts) every stored job is in, once this is set. */
const INDEX_VERSION = "1";

/** Records kept as last written here, so a worker's next call skips the read (their rev still guards the write). */
const KNOWN_RECORDS = 10_000;

interface Decision<R> {
  /** The job to store, or null to store nothing. */
  job: Job | null;
  value: R;
  lockToken?: string;
}

interface Updated<R> {
  value: R;
  before: JobDoc;
  /** Null when nothing was stored. */
  after: JobDoc | null;
}

export class BullMqJobQueue implements JobQueue {
  readonly #redis: Redis;
  readonly #records: RedisJobRecords;
  readonly #deliveries: BullMqDeliveries;
  readonly #options: ResolvedJobQueueOptions;
  readonly #listeners = new JobListeners();
  /** Records as this queue last wrote them: what #update tries first. */
  readonly #known = new Map<string, StoredDoc>();
  /** The BullMQ jobs of the leases taken here, by flotilla job id: settling them needs no lookup. */
  readonly #taken = new Map<string, BullJob>();
  #indexing: Promise<void> | undefined;

  constructor(options: BullMqJobQueueOptions) {
    const prefix = options.prefix ?? "flotilla:jobs";
    // BullMQ's workers require it: a command waits for a reconnect instead of failing after N retries.
    this.#redis = new Redis(options.url, { maxRetriesPerRequest: null });
    this.#redis.on("error", () => undefined);
    this.#records = new RedisJobRecords(this.#redis, prefix);
    this.#deliveries = new BullMqDeliveries(this.#redis, `${prefix}:bull`, options.stalledIntervalMs ?? 5_000);
    this.#options = resolveJobQueueOptions(options);
  }

  async enqueue(specInput: JobSpecInput): Promise<Job> {
    const spec = jobSpecSchema.parse(specInput);
    const keys = this.#records.keys;
    let id = this.#options.newId();
    if (spec.idempotencyKey !== undefined) {
      const claimed = await this.#redis.set(keys.idempotency(spec.idempotencyKey), id, "NX");
      if (claimed === null) {
        const existingId = await this.#redis.get(keys.idempotency(spec.idempotencyKey));
        const existing = existingId === null ? null : await this.#records.load(existingId);
        if (existing !== null) return existing.doc.job;
        // Claimed by an enqueue that died before writing its job: make it now, under that id.
        if (existingId !== null) id = existingId;
      }
    }
    const seq = await this.#records.nextSeq();
    const doc: JobDoc = { seq, queueSeq: seq, delivery: 1, lockToken: null, job: newJob(id, spec, this.#options.nowMs()) };
    const written = await this.#records.commit(null, null, doc);
    if (written === null) {
      // Two enqueues with the same key, both after a crashed one: the other wrote it.
      const winner = await this.#records.load(id);
      if (winner !== null) return winner.doc.job;
      throw new Error(`job ${id} could not be written`);
    }
    this.#remember(written);
    await this.#deliver(doc);
    this.#listeners.emit({ type: "state", event: null, from: null, job: doc.job });
    return doc.job;
  }

  async lease(request: LeaseRequest): Promise<Lease | null> {
    // Before a delivery is taken: a throw after that would leave it locked.
    assertLeaseMs(request.leaseMs);
    const lockToken = randomUUID();
    for (const kind of await this.#sweepThenKindsByHead(request)) {
      for (;;) {
        // Locked for the lease's own length at first: if this coordinator dies before the lease is
        // recorded, the delivery is free again that soon (the stalled check), not a minute later.
        // The first renewal (at a third of the lease) extends it past the lease by the grace.
        const taken = await this.#deliveries.take(request.pool, kind, lockToken, request.leaseMs);
        if (taken === null) break;
        const data = taken.data;
        if (data === null) {
          await this.#deliveries.drop(taken.bull, lockToken, "not a flotilla delivery");
          continue;
        }
        const updated = await this.#update(data.id, (doc, nowMs): Decision<Applied | "stale"> => {
          if (doc.delivery !== data.delivery || doc.job.state !== "queued") return { job: null, value: "stale" };
          const applied = leaseJob(doc.job, request.workerId, request.leaseMs, nowMs);
          return { job: applied.ok ? applied.job : null, value: applied, lockToken };
        }).catch(async (err: unknown) => {
          // Redis failed between taking and recording: hand the delivery back rather than leave it locked.
          await this.#deliveries.putBack(taken.bull, lockToken).catch(() => undefined);
          throw err;
        });
        if (updated === null || updated.value === "stale") {
          await this.#deliveries.drop(taken.bull, lockToken, "stale delivery");
          continue;
        }
        if (!updated.value.ok) {
          // Delivered before its backoff ended by our clock (clocks of two coordinators differ): not yet.
          await this.#deliveries.putBack(taken.bull, lockToken);
          break;
        }
        this.#taken.set(data.id, taken.bull);
        this.#listeners.emit(updated.value.change);
        return { job: updated.value.job, token: updated.value.job.epoch };
      }
    }
    return null;
  }

  async renew(id: string, token: number, leaseMs: number): Promise<LeaseOutcome> {
    return this.#apply(id, (job, nowMs) => renewJob(job, token, leaseMs, nowMs), async (_before, after) => {
      await this.#deliveries.extend(after, leaseMs + LOCK_GRACE_MS, this.#takenFor(after));
    });
  }

  start(id: string, token: number): Promise<LeaseOutcome> {
    return this.#apply(id, (job, nowMs) => startJob(job, token, nowMs));
  }

  progress(id: string, token: number, fraction: number, message: string): Promise<LeaseOutcome> {
    return this.#apply(id, (job, nowMs) => progressJob(job, token, fraction, message, nowMs));
  }

  complete(id: string, token: number, result: unknown): Promise<LeaseOutcome> {
    return this.#apply(id, (job, nowMs) => completeJob(job, token, result, nowMs), (before) => this.#deliveries.complete(before, result, this.#release(before)));
  }

  fail(id: string, token: number, error: string, options: { retryable: boolean }): Promise<LeaseOutcome> {
    const { retryPolicy, random } = this.#options;
    return this.#apply(
      id,
      (job, nowMs) => failJob(job, token, { message: error, retryable: options.retryable }, nowMs, retryPolicy, random),
      // A retry's new delivery is added by sweep() once its backoff has passed.
      (before) => this.#deliveries.retire(before, error, this.#release(before)),
    );
  }

  async cancel(id: string): Promise<CancelOutcome> {
    const updated = await this.#update(id, (doc, nowMs) => {
      const cancelled = cancelJob(doc.job, nowMs);
      return { job: cancelled.outcome.status === "cancelled" ? cancelled.outcome.job : null, value: cancelled };
    });
    if (updated === null) return { status: "not_found" };
    if (updated.after !== null) {
      if (updated.before.job.state === "queued") await this.#deliveries.removeWaiting(updated.before);
      else if (isLeased(updated.before.job.state)) await this.#deliveries.retire(updated.before, "cancelled", this.#release(updated.before));
    }
    this.#listeners.emit(updated.value.change);
    return updated.value.outcome;
  }

  async get(id: string): Promise<Job | null> {
    return (await this.#records.load(id))?.doc.job ?? null;
  }

  async byIdempotencyKey(key: string): Promise<Job | null> {
    const id = await this.#redis.get(this.#records.keys.idempotency(key));
    return id === null ? null : this.get(id);
  }

  async list(filter: JobFilter, page: { cursor?: string | null; limit: number }): Promise<ListPage> {
    const limit = clampLimit(page.limit);
    let after = parseListCursor(page.cursor);
    const matched: JobDoc[] = [];
    await this.#indexed();
    // The narrowest index that holds every match; the other filters are applied to the records.
    const keys = this.#records.keys;
    const index =
      filter.parentId !== undefined
        ? keys.children(filter.parentId)
        : filter.owner !== undefined
          ? filter.state === "queued"
            ? keys.ownedQueued(filter.owner)
            : keys.owned(filter.owner)
          : keys.all();
    while (matched.length <= limit) {
      const batch = await this.#redis.zrangebyscore(index, `(${after}`, "+inf", "WITHSCORES", "LIMIT", 0, 200);
      if (batch.length === 0) break;
      const ids = batch.filter((_, i) => i % 2 === 0);
      // Move on by the index, not by the records read: a missing record must not stall the walk.
      after = Number(batch.at(-1));
      for (const doc of await this.#records.loadMany(ids)) {
        const { job } = doc;
        if (filter.state !== undefined && job.state !== filter.state) continue;
        if (filter.pool !== undefined && job.pool !== filter.pool) continue;
        if (filter.kind !== undefined && job.kind !== filter.kind) continue;
        if (filter.owner !== undefined && job.owner !== filter.owner) continue;
        if (filter.parentId !== undefined && job.parentId !== filter.parentId) continue;
        matched.push(doc);
      }
    }
    const shown = matched.slice(0, limit);
    const last = shown.at(-1);
    return { jobs: shown.map((doc) => doc.job), nextCursor: matched.length > limit && last !== undefined ? String(last.seq) : null };
  }

  async counts(pool: string): Promise<JobCounts> {
    const pipeline = this.#redis.pipeline();
    for (const state of JOB_STATES) pipeline.scard(this.#records.keys.state(pool, state));
    const results = (await pipeline.exec()) ?? [];
    const counts = zeroCounts();
    JOB_STATES.forEach((state, i) => {
      counts[state] = Number(results[i]?.[1] ?? 0);
    });
    return counts;
  }

  async position(id: string): Promise<number | null> {
    const stored = await this.#records.load(id);
    if (stored === null || stored.doc.job.state !== "queued") return null;
    const pipeline = this.#redis.pipeline();
    for (const key of this.#records.keys.queuedOfPool(stored.doc.job.pool)) pipeline.zcount(key, "-inf", `(${queueScore(stored.doc)}`);
    const results = (await pipeline.exec()) ?? [];
    return results.reduce((sum, [, n]) => sum + Number(n ?? 0), 0);
  }

  async sweep(): Promise<number> {
    const nowMs = this.#options.nowMs();
    const [expired, due] = await Promise.all([
      this.#redis.zrangebyscore(this.#records.keys.leases(), "-inf", nowMs),
      this.#redis.zrangebyscore(this.#records.keys.pending(), "-inf", nowMs, "WITHSCORES"),
    ]);
    return this.#sweepFound(expired, due);
  }

  subscribe(listener: JobListener): () => void {
    return this.#listeners.subscribe(listener);
  }

  async close(): Promise<void> {
    this.#listeners.clear();
    this.#known.clear();
    this.#taken.clear();
    await this.#deliveries.close();
    await this.#redis.quit();
  }

  /** Takes back the expired leases found and adds the deliveries that came due; how many leases. */
  async #sweepFound(expiredIds: readonly string[], dueFound: readonly string[]): Promise<number> {
    let due = dueFound;
    let expired = 0;
    for (const id of expiredIds) {
      const updated = await this.#update(id, (doc, now) => {
        const applied = expireJob(doc.job, now);
        return { job: applied?.ok === true ? applied.job : null, value: applied };
      });
      if (updated === null || updated.after === null || updated.value?.ok !== true) continue;
      expired += 1;
      await this.#deliveries.retire(updated.before, "lease expired", this.#release(updated.before));
      this.#listeners.emit(updated.value.change);
    }
    // A job queued again may be due at once: its delivery is added in this same sweep.
    if (expired > 0) due = await this.#redis.zrangebyscore(this.#records.keys.pending(), "-inf", this.#options.nowMs(), "WITHSCORES");
    for (let i = 0; i + 1 < due.length; i += 2) {
      const id = due[i] ?? "";
      const stored = await this.#records.load(id);
      if (stored !== null && stored.doc.job.state === "queued") await this.#deliveries.add(stored.doc);
      await ZREM_IF_SCORE.run(this.#redis, [this.#records.keys.pending()], [id, due[i + 1] ?? ""]);
    }
    return expired;
  }

  /**
   * What lease() does first, in one round trip when there is nothing to take
   * back: sweep, and find the kinds asked for that have queued jobs in the
   * pool, the one with the best head first.
   */
  async #sweepThenKindsByHead(request: LeaseRequest): Promise<LeaseRequest["kinds"]> {
    const nowMs = this.#options.nowMs();
    const keys = this.#records.keys;
    const pipeline = this.#redis.pipeline();
    pipeline.zrangebyscore(keys.leases(), "-inf", nowMs);
    pipeline.zrangebyscore(keys.pending(), "-inf", nowMs, "WITHSCORES");
    for (const kind of request.kinds) pipeline.zrange(keys.queued(request.pool, kind), 0, 0, "WITHSCORES");
    const results = (await pipeline.exec()) ?? [];
    for (const [err] of results) if (err) throw err;
    const strings = (i: number): string[] => {
      const reply = results[i]?.[1];
      return Array.isArray(reply) ? reply.map(String) : [];
    };
    const expired = strings(0);
    const due = strings(1);
    // A lease taken back queues its job again, which may change the heads: read them anew.
    if (expired.length > 0 || due.length > 0) {
      if ((await this.#sweepFound(expired, due)) > 0) return this.#kindsByHead(request);
    }
    return headsInOrder(request.kinds, request.kinds.map((_, i) => strings(i + 2)));
  }



  /**
   * Jobs stored before the owner and parent indexes existed are put in them
   * once, on the first list: a walk of every job, then a mark so no
   * coordinator walks again. New jobs are indexed by COMMIT itself.
   */
  #indexed(): Promise<void> {
    this.#indexing ??= (async () => {
      const keys = this.#records.keys;
      if ((await this.#redis.get(keys.indexVersion())) === INDEX_VERSION) return;
      let after = 0;
      for (;;) {
        const batch = await this.#redis.zrangebyscore(keys.all(), `(${after}`, "+inf", "WITHSCORES", "LIMIT", 0, 500);
        if (batch.length === 0) break;
        after = Number(batch.at(-1));
        const pipeline = this.#redis.pipeline();
        for (const doc of await this.#records.loadMany(batch.filter((_, i) => i % 2 === 0))) {
          const { owner, parentId, state, id } = doc.job;
          if (owner !== null) pipeline.zadd(keys.owned(owner), doc.seq, id);
          if (owner !== null && state === "queued") pipeline.zadd(keys.ownedQueued(owner), doc.seq, id);
          if (parentId !== null) pipeline.zadd(keys.children(parentId), doc.seq, id);
        }
        await pipeline.exec();
      }
      await this.#redis.set(keys.indexVersion(), INDEX_VERSION);
    })().catch((err: unknown) => {
      this.#indexing = undefined;
      throw err;
    });
    return this.#indexing;
  }

  /** The kinds asked for that have queued jobs in the pool, the one with the best head first. */
  async #kindsByHead(request: LeaseRequest): Promise<LeaseRequest["kinds"]> {
    if (request.kinds.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const kind of request.kinds) pipeline.zrange(this.#records.keys.queued(request.pool, kind), 0, 0, "WITHSCORES");
    const results = (await pipeline.exec()) ?? [];
    return headsInOrder(request.kinds, results.map(([, reply]) => (Array.isArray(reply) ? reply.map(String) : [])));
  }

  /** A job queued to run now gets its delivery at once; one in backoff waits for sweep(). */
  async #deliver(doc: JobDoc): Promise<void> {
    if (doc.job.notBeforeMs > this.#options.nowMs()) return;
    await this.#deliveries.add(doc);
    await ZREM_IF_SCORE.run(this.#redis, [this.#records.keys.pending()], [doc.job.id, String(doc.job.notBeforeMs)]);
  }

  /** A worker's call: decide, store, then let BullMQ follow and announce the change. */
  async #apply(
    id: string,
    decide: (job: Job, nowMs: number) => Applied,
    follow?: (before: JobDoc, after: JobDoc) => Promise<void>,
  ): Promise<LeaseOutcome> {
    const updated = await this.#update(id, (doc, nowMs) => {
      const applied = decide(doc.job, nowMs);
      return { job: applied.ok ? applied.job : null, value: applied };
    });
    const lost = () => {
      // The lease is over for this worker: its BullMQ job is someone else's to settle now.
      this.#taken.delete(id);
    };
    if (updated === null) {
      lost();
      return { status: "lost" };
    }
    const applied = updated.value;
    if (!applied.ok) {
      lost();
      return { status: applied.status };
    }
    if (updated.after !== null) await follow?.(updated.before, updated.after);
    this.#listeners.emit(applied.change);
    return { status: "ok", job: applied.job };
  }

  /**
   * Asks `decide` about the job and stores its answer if the job did not
   * change meanwhile; otherwise asks again on the fresh record. It starts from
   * the record as this queue last wrote it, when it has one: the rev check
   * refuses the write if anyone changed it since, and a decision to write
   * nothing is only trusted on a record just read. Null when there is no such job.
   */
  async #update<R>(id: string, decide: (doc: JobDoc, nowMs: number) => Decision<R>): Promise<Updated<R> | null> {
    let stored = this.#known.get(id) ?? null;
    let fresh = stored === null;
    if (stored === null) stored = await this.#records.load(id);
    for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt++) {
      if (stored === null) return null;
      const decision = decide(stored.doc, this.#options.nowMs());
      if (decision.job === null && fresh) return { value: decision.value, before: stored.doc, after: null };
      if (decision.job !== null) {
        const after = await this.#nextDoc(stored.doc, decision.job, decision.lockToken);
        const written = await this.#records.commit(stored.rev, stored.doc, after);
        if (written !== null) {
          this.#remember(written);
          return { value: decision.value, before: stored.doc, after };
        }
      }
      this.#known.delete(id);
      stored = await this.#records.load(id);
      fresh = true;
    }
    throw new Error(`job ${id} changed ${MAX_COMMIT_ATTEMPTS} times while one change was being made`);
  }

  /** Keeps a record this queue wrote, until the job ends; the oldest go first past KNOWN_RECORDS. */
  #remember(stored: StoredDoc): void {
    const { id, state } = stored.doc.job;
    this.#known.delete(id);
    if (isTerminal(state)) return;
    this.#known.set(id, stored);
    if (this.#known.size > KNOWN_RECORDS) {
      const oldest = this.#known.keys().next();
      if (oldest.done !== true) this.#known.delete(oldest.value);
    }
  }

  /** The BullMQ job of the doc's delivery, if this queue took it, kept for later calls. */
  #takenFor(doc: JobDoc): BullJob | undefined {
    const bull = this.#taken.get(doc.job.id);
    return bull?.id === deliveryId(doc.job.id, doc.delivery) ? bull : undefined;
  }

  /** The same, forgotten: the delivery is being settled. */
  #release(doc: JobDoc): BullJob | undefined {
    const bull = this.#takenFor(doc);
    this.#taken.delete(doc.job.id);
    return bull;
  }

  /** The doc for `job`: queued again, it goes to the back of its priority with a new delivery. */
  async #nextDoc(before: JobDoc, job: Job, lockToken: string | undefined): Promise<JobDoc> {
    if (job.state === "queued" && before.job.state !== "queued") {
      return { ...before, job, queueSeq: await this.#records.nextSeq(), delivery: before.delivery + 1, lockToken: null };
    }
    return { ...before, job, lockToken: lockToken ?? before.lockToken };
  }
}


/** The kinds whose queue has a head (`[member, score]`), the best (lowest) score first. */
function headsInOrder(kinds: LeaseRequest["kinds"], heads: readonly string[][]): LeaseRequest["kinds"] {
  return kinds
    .flatMap((kind, i) => {
      const score = Number(heads[i]?.[1]);
      return Number.isFinite(score) ? [{ kind, score }] : [];
    })
    .sort((a, b) => a.score - b.score)
    .map((head) => head.kind);
}
