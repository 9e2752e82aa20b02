// The embedded job queue: node:sqlite, one file of its own in the data
// directory (docs/adr/0034). Every change is one IMMEDIATE transaction that
// reads the job, asks job-lifecycle.ts, and writes the answer, committed with
// synchronous=FULL: once enqueue() resolves, a kill -9 or a power cut keeps
// the job. One connection; node:sqlite is synchronous, so two leases in this
// process never interleave, and the write lock keeps another process out.
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { openPrivateDatabase } from "../store/sqlite/private-database.ts";
import { immediateTransaction } from "../store/sqlite/transaction.ts";
import { jobSpecSchema, newJob, type Job, type JobSpecInput } from "./job.ts";
import { JOB_STATES } from "./job-state.ts";
import {
  PRIORITY_RANK,
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
import { JOB_MIGRATIONS } from "./sqlite-job-schema.ts";

interface Statements {
  byId: StatementSync;
  byKey: StatementSync;
  insert: StatementSync;
  update: StatementSync;
  nextQueueSeq: StatementSync;
  nextLeasable: StatementSync;
  expired: StatementSync;
  position: StatementSync;
  queueSeq: StatementSync;
  counts: StatementSync;
  list: StatementSync;
  listByOwner: StatementSync;
  listByOwnerState: StatementSync;
  listByParent: StatementSync;
}

function prepare(db: DatabaseSync): Statements {
  return {
    byId: db.prepare("SELECT job_json FROM jobs WHERE id = ?"),
    byKey: db.prepare("SELECT job_json FROM jobs WHERE idempotency_key = ?"),
    insert: db.prepare(`
      INSERT INTO jobs (id, pool, kind, state, priority_rank, queue_seq, not_before_ms, lease_deadline_ms, idempotency_key, owner, parent_id, job_json)
      VALUES ($id, $pool, $kind, $state, $rank, $queueSeq, $notBefore, $deadline, $key, $owner, $parent, $json)`),
    update: db.prepare(`
      UPDATE jobs SET state = $state, queue_seq = $queueSeq, not_before_ms = $notBefore,
        lease_deadline_ms = $deadline, job_json = $json
      WHERE id = $id`),
    nextQueueSeq: db.prepare("UPDATE job_queue_seq SET value = value + 1 WHERE id = 1 RETURNING value"),
    nextLeasable: db.prepare(`
      SELECT job_json FROM jobs
      WHERE pool = ? AND state = 'queued' AND not_before_ms <= ? AND kind IN (SELECT value FROM json_each(?))
      ORDER BY priority_rank, queue_seq LIMIT 1`),
    expired: db.prepare("SELECT job_json FROM jobs WHERE lease_deadline_ms IS NOT NULL AND lease_deadline_ms <= ? ORDER BY lease_deadline_ms"),
    position: db.prepare(`
      SELECT COUNT(*) AS ahead FROM jobs
      WHERE pool = $pool AND state = 'queued'
        AND (priority_rank < $rank OR (priority_rank = $rank AND queue_seq < $queueSeq))`),
    queueSeq: db.prepare("SELECT queue_seq FROM jobs WHERE id = ?"),
    counts: db.prepare("SELECT state, COUNT(*) AS n FROM jobs WHERE pool = ? GROUP BY state"),
    // One statement per leading filter: `$owner IS NULL OR owner = $owner`
    // would keep the planner off the owner's (and the parent's) index, and
    // the per-key limit asks for one owner's queued jobs at every submit.
    list: db.prepare(listSql("1 = 1")),
    listByOwner: db.prepare(listSql("owner = $owner")),
    listByOwnerState: db.prepare(listSql("owner = $owner AND state = $state")),
    listByParent: db.prepare(listSql("parent_id = $parent")),
  };
}

/** A page of jobs in enqueue order, `lead` the filter an index answers; the others as the caller gives them. */
function listSql(lead: string): string {
  return `
      SELECT seq, job_json FROM jobs
      WHERE ${lead} AND seq > $after AND ($state IS NULL OR state = $state) AND ($pool IS NULL OR pool = $pool) AND ($kind IS NULL OR kind = $kind)
        AND ($owner IS NULL OR owner = $owner) AND ($parent IS NULL OR parent_id = $parent)
      ORDER BY seq LIMIT $limit`;
}

/** Our own JSON, written by this file: read back as it was written. */
function jobOf(row: Record<string, unknown> | undefined): Job | null {
  const text = row?.["job_json"];
  return typeof text === "string" ? (JSON.parse(text) as Job) : null;
}

export class SqliteJobQueue implements JobQueue {
  readonly #db: DatabaseSync;
  readonly #sql: Statements;
  readonly #options: ResolvedJobQueueOptions;
  readonly #listeners = new JobListeners();

  /** `file` is a path (made 0600), or ":memory:". Throws when the schema cannot be brought up to date. */
  constructor(file: string, options: JobQueueOptions = {}) {
    // Job inputs may hold prompts and documents: private, as the store is. FULL: the
    // WAL is synced at every commit, so an accepted job survives a power cut too.
    const db = openPrivateDatabase(file, { migrations: JOB_MIGRATIONS, synchronous: "FULL" });
    try {
      this.#sql = prepare(db);
    } catch (err) {
      db.close();
      throw err;
    }
    this.#db = db;
    this.#options = resolveJobQueueOptions(options);
  }

  enqueue(specInput: JobSpecInput): Promise<Job> {
    return Promise.try(() => {
      const spec = jobSpecSchema.parse(specInput);
      const { job, created } = immediateTransaction(this.#db, () => {
        if (spec.idempotencyKey !== undefined) {
          const existing = jobOf(this.#sql.byKey.get(spec.idempotencyKey));
          if (existing !== null) return { job: existing, created: false };
        }
        const fresh = newJob(this.#options.newId(), spec, this.#options.nowMs());
        this.#sql.insert.run({
          id: fresh.id,
          pool: fresh.pool,
          kind: fresh.kind,
          state: fresh.state,
          rank: PRIORITY_RANK[fresh.priority],
          queueSeq: this.#nextQueueSeq(),
          notBefore: fresh.notBeforeMs,
          deadline: null,
          key: fresh.idempotencyKey,
          owner: fresh.owner,
          parent: fresh.parentId,
          json: JSON.stringify(fresh),
        });
        return { job: fresh, created: true };
      });
      if (created) this.#listeners.emit({ type: "state", event: null, from: null, job });
      return job;
    });
  }

  lease(request: LeaseRequest): Promise<Lease | null> {
    return Promise.try(() => {
      assertLeaseMs(request.leaseMs);
      this.#sweepNow();
      if (request.kinds.length === 0) return null;
      const nowMs = this.#options.nowMs();
      const applied = immediateTransaction(this.#db, () => {
        const job = jobOf(this.#sql.nextLeasable.get(request.pool, nowMs, JSON.stringify(request.kinds)));
        if (job === null) return null;
        return this.#store(job, leaseJob(job, request.workerId, request.leaseMs, nowMs));
      });
      if (applied === null || !applied.ok) return null;
      this.#listeners.emit(applied.change);
      return { job: applied.job, token: applied.job.epoch };
    });
  }

  renew(id: string, token: number, leaseMs: number): Promise<LeaseOutcome> {
    return this.#apply(id, (job, nowMs) => renewJob(job, token, leaseMs, nowMs));
  }

  start(id: string, token: number): Promise<LeaseOutcome> {
    return this.#apply(id, (job, nowMs) => startJob(job, token, nowMs));
  }

  progress(id: string, token: number, fraction: number, message: string): Promise<LeaseOutcome> {
    return this.#apply(id, (job, nowMs) => progressJob(job, token, fraction, message, nowMs));
  }

  complete(id: string, token: number, result: unknown): Promise<LeaseOutcome> {
    return this.#apply(id, (job, nowMs) => completeJob(job, token, result, nowMs));
  }

  fail(id: string, token: number, error: string, options: { retryable: boolean }): Promise<LeaseOutcome> {
    const { retryPolicy, random } = this.#options;
    return this.#apply(id, (job, nowMs) => failJob(job, token, { message: error, retryable: options.retryable }, nowMs, retryPolicy, random));
  }

  cancel(id: string): Promise<CancelOutcome> {
    return Promise.try(() => {
      const nowMs = this.#options.nowMs();
      const done = immediateTransaction(this.#db, () => {
        const job = jobOf(this.#sql.byId.get(id));
        if (job === null) return null;
        const cancelled = cancelJob(job, nowMs);
        if (cancelled.outcome.status === "cancelled") this.#write(cancelled.outcome.job, null);
        return cancelled;
      });
      if (done === null) return { status: "not_found" } as const;
      this.#listeners.emit(done.change);
      return done.outcome;
    });
  }

  get(id: string): Promise<Job | null> {
    return Promise.try(() => jobOf(this.#sql.byId.get(id)));
  }

  byIdempotencyKey(key: string): Promise<Job | null> {
    return Promise.try(() => jobOf(this.#sql.byKey.get(key)));
  }

  list(filter: JobFilter, page: { cursor?: string | null; limit: number }): Promise<ListPage> {
    return Promise.try(() => {
      const limit = clampLimit(page.limit);
      const statement =
        filter.parentId !== undefined
          ? this.#sql.listByParent
          : filter.owner !== undefined
            ? filter.state !== undefined
              ? this.#sql.listByOwnerState
              : this.#sql.listByOwner
            : this.#sql.list;
      const rows = statement.all({
        after: parseListCursor(page.cursor),
        state: filter.state ?? null,
        pool: filter.pool ?? null,
        kind: filter.kind ?? null,
        owner: filter.owner ?? null,
        parent: filter.parentId ?? null,
        limit: limit + 1,
      });
      const shown = rows.slice(0, limit);
      const jobs = shown.map((row) => jobOf(row)).filter((job) => job !== null);
      const last = shown.at(-1);
      return { jobs, nextCursor: rows.length > limit && last !== undefined ? String(last["seq"]) : null };
    });
  }

  counts(pool: string): Promise<JobCounts> {
    return Promise.try(() => {
      const counts = zeroCounts();
      for (const row of this.#sql.counts.all(pool)) {
        const state = JOB_STATES.find((s) => s === row["state"]);
        if (state !== undefined) counts[state] = Number(row["n"]);
      }
      return counts;
    });
  }

  position(id: string): Promise<number | null> {
    return Promise.try(() => {
      const job = jobOf(this.#sql.byId.get(id));
      if (job === null || job.state !== "queued") return null;
      const queueSeq = Number(this.#sql.queueSeq.get(id)?.["queue_seq"]);
      const row = this.#sql.position.get({ pool: job.pool, rank: PRIORITY_RANK[job.priority], queueSeq });
      return Number(row?.["ahead"] ?? 0);
    });
  }

  sweep(): Promise<number> {
    return Promise.try(() => this.#sweepNow());
  }

  subscribe(listener: JobListener): () => void {
    return this.#listeners.subscribe(listener);
  }

  close(): Promise<void> {
    return Promise.try(() => {
      this.#listeners.clear();
      this.#db.close();
    });
  }

  #sweepNow(): number {
    const nowMs = this.#options.nowMs();
    const changes = immediateTransaction(this.#db, () =>
      this.#sql.expired.all(nowMs).flatMap((row) => {
        const job = jobOf(row);
        const expired = job === null ? null : expireJob(job, nowMs);
        if (job === null || expired === null) return [];
        const stored = this.#store(job, expired);
        return stored.ok ? [stored.change] : [];
      }),
    );
    for (const change of changes) this.#listeners.emit(change);
    return changes.length;
  }

  /** Loads the job, applies `decide` and stores its answer, all in one transaction; then announces it. */
  #apply(id: string, decide: (job: Job, nowMs: number) => Applied): Promise<LeaseOutcome> {
    return Promise.try(() => {
      const nowMs = this.#options.nowMs();
      const applied = immediateTransaction(this.#db, (): Applied => {
        const job = jobOf(this.#sql.byId.get(id));
        if (job === null) return { ok: false, status: "lost" };
        return this.#store(job, decide(job, nowMs));
      });
      if (!applied.ok) return { status: applied.status };
      this.#listeners.emit(applied.change);
      return { status: "ok", job: applied.job };
    });
  }

  /** Writes an accepted change; a job queued again goes to the back of its priority. */
  #store(before: Job, applied: Applied): Applied {
    if (!applied.ok) return applied;
    const requeued = before.state !== "queued" && applied.job.state === "queued";
    this.#write(applied.job, requeued ? this.#nextQueueSeq() : null);
    return applied;
  }

  #write(job: Job, queueSeq: number | null): void {
    const current = queueSeq ?? Number(this.#sql.queueSeq.get(job.id)?.["queue_seq"]);
    this.#sql.update.run({
      id: job.id,
      state: job.state,
      queueSeq: current,
      notBefore: job.notBeforeMs,
      deadline: job.state === "leased" || job.state === "running" ? job.leaseDeadlineMs : null,
      json: JSON.stringify(job),
    });
  }

  #nextQueueSeq(): number {
    return Number(this.#sql.nextQueueSeq.get()?.["value"]);
  }
}
