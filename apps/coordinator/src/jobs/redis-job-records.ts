// The jobs' own records in Redis: what BullMQ does not keep for us (the
// fencing epoch, attempts across deliveries, idempotency keys, positions
// across a pool's kinds). Each job is a hash {rev, doc}; a change is written
// by one Lua script that checks `rev` is still what was read (compare and
// set) and moves the job between its index keys in the same step, so the
// record and its indexes never disagree. Keys are named inside the script's
// arguments: this is for one Redis (or a primary), not Redis Cluster.
import type { Redis } from "ioredis";
import type { Job } from "./job.ts";
import { JOB_KINDS } from "./job.ts";
import { isLeased, type JobState } from "./job-state.ts";
import { PRIORITY_RANK } from "./job-lifecycle.ts";
import { RedisScript } from "./redis-scripts.ts";

/** What is stored for a job: the job, and where it stands with BullMQ. */
export interface JobDoc {
  /** Enqueue order: lists and their cursors. */
  seq: number;
  /** Place among its pool's queued jobs of one priority, drawn again on each requeue. */
  queueSeq: number;
  /** The number of the BullMQ job that carries the current queuing; grows on each requeue. */
  delivery: number;
  /** BullMQ's lock token of the current lease's delivery. */
  lockToken: string | null;
  job: Job;
}

export class RedisJobKeys {
  readonly #prefix: string;
  constructor(prefix: string) {
    this.#prefix = prefix;
  }
  job(id: string): string {
    return `${this.#prefix}:job:${id}`;
  }
  idempotency(key: string): string {
    return `${this.#prefix}:idem:${key}`;
  }
  /** A counter for seq and queueSeq. */
  sequence(): string {
    return `${this.#prefix}:seq`;
  }
  /** Every job by seq. */
  all(): string {
    return `${this.#prefix}:all`;
  }
  /** One owner's jobs by seq, and its queued ones: what the per-key list and limit read. */
  owned(owner: string): string {
    return `${this.#prefix}:owner:${owner}`;
  }
  ownedQueued(owner: string): string {
    return `${this.#prefix}:owner-queued:${owner}`;
  }
  /** A job's children (a batch's lines, a split run's chunks) by seq. */
  children(parentId: string): string {
    return `${this.#prefix}:children:${parentId}`;
  }
  /** Which of the indexes above the stored jobs are in: set once they all are. */
  indexVersion(): string {
    return `${this.#prefix}:index-version`;
  }
  state(pool: string, state: JobState): string {
    return `${this.#prefix}:state:${pool}:${state}`;
  }
  /** Queued jobs of one pool and kind, by queueScore(). */
  queued(pool: string, kind: string): string {
    return `${this.#prefix}:queued:${pool}:${kind}`;
  }
  /** Leased and running jobs by deadline: what sweep() looks at. */
  leases(): string {
    return `${this.#prefix}:leases`;
  }
  /** Queued jobs whose BullMQ delivery is not added yet, by the time it may be. */
  pending(): string {
    return `${this.#prefix}:pending`;
  }
  queuedOfPool(pool: string): string[] {
    return JOB_KINDS.map((kind) => this.queued(pool, kind));
  }
}

/** Priority first, then first in; 2^40 queue places per priority before they would overlap. */
export function queueScore(doc: JobDoc): number {
  return PRIORITY_RANK[doc.job.priority] * 2 ** 40 + doc.queueSeq;
}

// ARGV: expected rev ("" when the job must not exist yet), the new doc, the
// job's id, then index operations: "zadd" key score | "zrem" key | "sadd" key | "srem" key.
const COMMIT = new RedisScript(`
local rev = redis.call('HGET', KEYS[1], 'rev')
if ARGV[1] == '' then
  if rev then return 0 end
  rev = 0
elseif rev ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'rev', tonumber(rev) + 1, 'doc', ARGV[2])
local id = ARGV[3]
local i = 4
while i <= #ARGV do
  local op = ARGV[i]
  if op == 'zadd' then
    redis.call('ZADD', ARGV[i + 1], ARGV[i + 2], id)
    i = i + 3
  elseif op == 'zrem' then
    redis.call('ZREM', ARGV[i + 1], id)
    i = i + 2
  elseif op == 'sadd' then
    redis.call('SADD', ARGV[i + 1], id)
    i = i + 2
  elseif op == 'srem' then
    redis.call('SREM', ARGV[i + 1], id)
    i = i + 2
  else
    return redis.error_reply('unknown index operation ' .. op)
  end
end
return 1`);

/** The index operations that take a job from `before` (null: new) to `after`. */
export function indexOperations(keys: RedisJobKeys, before: JobDoc | null, after: JobDoc): string[] {
  const ops: string[] = [];
  const { job } = after;
  if (before === null) ops.push("zadd", keys.all(), String(after.seq), ...newJobIndexes(keys, after));
  if (job.owner !== null) {
    if (job.state === "queued") ops.push("zadd", keys.ownedQueued(job.owner), String(after.seq));
    else if (before?.job.state === "queued") ops.push("zrem", keys.ownedQueued(job.owner));
  }
  if (before?.job.state !== job.state) {
    if (before !== null) ops.push("srem", keys.state(before.job.pool, before.job.state));
    ops.push("sadd", keys.state(job.pool, job.state));
  }
  const queued = keys.queued(job.pool, job.kind);
  if (job.state === "queued") {
    ops.push("zadd", queued, String(queueScore(after)));
    // A new queuing needs a new delivery, added once it is due.
    if (before?.job.state !== "queued") ops.push("zadd", keys.pending(), String(job.notBeforeMs));
  } else {
    ops.push("zrem", queued, "zrem", keys.pending());
  }
  if (isLeased(job.state) && job.leaseDeadlineMs !== null) ops.push("zadd", keys.leases(), String(job.leaseDeadlineMs));
  else ops.push("zrem", keys.leases());
  return ops;
}

/** The owner's and the parent's index entries a new job gets (and a backfill gives an old one). */
export function newJobIndexes(keys: RedisJobKeys, doc: JobDoc): string[] {
  const ops: string[] = [];
  if (doc.job.owner !== null) ops.push("zadd", keys.owned(doc.job.owner), String(doc.seq));
  if (doc.job.parentId !== null) ops.push("zadd", keys.children(doc.job.parentId), String(doc.seq));
  return ops;
}

export interface StoredDoc {
  rev: string;
  doc: JobDoc;
}

export class RedisJobRecords {
  readonly keys: RedisJobKeys;
  readonly #redis: Redis;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.keys = new RedisJobKeys(prefix);
  }

  async load(id: string): Promise<StoredDoc | null> {
    const [rev, text] = await this.#redis.hmget(this.keys.job(id), "rev", "doc");
    if (rev === null || rev === undefined || text === null || text === undefined) return null;
    // Our own JSON, written by commit(): read back as it was written.
    return { rev, doc: JSON.parse(text) as JobDoc };
  }

  async loadMany(ids: readonly string[]): Promise<JobDoc[]> {
    if (ids.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const id of ids) pipeline.hget(this.keys.job(id), "doc");
    const results = (await pipeline.exec()) ?? [];
    return results.flatMap(([err, text]) => (err === null && typeof text === "string" ? [JSON.parse(text) as JobDoc] : []));
  }

  /**
   * Writes `after` if the job is still at `expectedRev` (null: does not exist
   * yet). The record as written, with its new rev; null when it changed meanwhile.
   */
  async commit(expectedRev: string | null, before: JobDoc | null, after: JobDoc): Promise<StoredDoc | null> {
    const args = [expectedRev ?? "", JSON.stringify(after), after.job.id, ...indexOperations(this.keys, before, after)];
    const written = await COMMIT.run(this.#redis, [this.keys.job(after.job.id)], args);
    if (written !== 1) return null;
    // The script counts revs from 0, one up per write.
    return { rev: String(Number(expectedRev ?? "0") + 1), doc: after };
  }

  async nextSeq(): Promise<number> {
    return this.#redis.incr(this.keys.sequence());
  }
}
