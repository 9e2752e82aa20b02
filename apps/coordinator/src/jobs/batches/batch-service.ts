// Runs OpenAI batches over the job queue (docs/adr/0037). Each request line
// becomes a job (parentId the batch, idempotency key `<batch>:<line>`, so a
// crash while queueing never queues a line twice). The service follows the
// queue's changes and records each line's outcome; when every line has one
// it writes the output and error files in line order and completes the
// batch. Cancel cancels the children and writes the partial output; the 24 h
// window passing does the same and ends `expired`. Everything a batch does is
// driven by advance(), one run per batch at a time, from whatever state is
// stored, so a restart (start() scans the unfinished batches) carries on where
// the last run stopped.
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { FlotillaError } from "@flotilla/protocol";
import type { Service } from "@flotilla/lifecycle";
import type { Job, JobPriority } from "../job.ts";
import type { JobChange, JobQueue } from "../job-queue.ts";
import { isTerminal } from "../job-state.ts";
import type { FilesDb } from "../files/files-db.ts";
import type { FileStore, StagedBlob, StoredFile } from "../files/file-store.ts";
import { applyBatchEvent, newBatch, type Batch, type BatchFailure } from "./batch.ts";
import { isBatchTerminal, type BatchEvent } from "./batch-state.ts";
import { parseBatchLine, readBatchLines, type BatchEndpoint } from "./batch-input.ts";
import type { BatchStore, LineCounts, LineOutcome } from "./batch-store.ts";
import { placeLine, recordLine, type BatchEnding } from "./batch-output.ts";

export interface BatchServiceLog {
  warn(details: Record<string, unknown>, message: string): void;
}

export interface BatchServiceOptions {
  db: FilesDb;
  files: FileStore;
  batches: BatchStore;
  queue: JobQueue;
  log: BatchServiceLog;
  nowMs?: () => number;
  newId?: () => string;
  /** How often unfinished batches are checked against the queue and their window; default 30 s. */
  checkEveryMs?: number;
  /** Children's priority: below interactive work. */
  priority?: JobPriority;
}

export interface CreateBatch {
  owner: string;
  inputFile: StoredFile;
  endpoint: BatchEndpoint;
  metadata: Record<string, string> | null;
  /** The request lines, checked (batch-input.ts). */
  lines: readonly { line: number; customId: string }[];
}

const PAGE = 500;
/** How many lines are queued between two looks at whether the batch was cancelled meanwhile. */
const RECHECK_EVERY_LINES = 100;

export class BatchService implements Service {
  readonly name = "batches";
  readonly #o: Required<Omit<BatchServiceOptions, "newId">> & { newId: () => string };
  readonly #running = new Map<string, Promise<void>>();
  /** Batches asked to advance again while a run was on (and whether that ask wants a reconcile). */
  readonly #again = new Map<string, boolean>();
  readonly #listeners = new Set<(batch: Batch) => void>();
  #outcomes: { batchId: string; line: number; job: Job }[] = [];
  #flushScheduled = false;
  #unsubscribe: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = true;

  constructor(options: BatchServiceOptions) {
    this.#o = {
      nowMs: Date.now,
      checkEveryMs: 30_000,
      priority: "low",
      ...options,
      newId: options.newId ?? (() => `batch_${randomBytes(12).toString("hex")}`),
    };
  }

  start(): void {
    this.#stopped = false;
    this.#unsubscribe = this.#o.queue.subscribe((change) => this.#onJobChange(change));
    this.#timer = setInterval(() => this.#checkAll(), this.#o.checkEveryMs);
    this.#timer.unref();
    this.#checkAll();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    clearInterval(this.#timer);
    this.#flushOutcomes();
    while (this.#running.size > 0) await Promise.allSettled([...this.#running.values()]);
  }

  /** Stores a checked batch (validating) and starts queueing its lines. */
  create(spec: CreateBatch): Batch {
    const batch = newBatch(
      { id: this.#o.newId(), owner: spec.owner, endpoint: spec.endpoint, inputFileId: spec.inputFile.id, metadata: spec.metadata, total: spec.lines.length },
      this.#o.nowMs(),
    );
    this.#o.batches.create(batch, spec.lines);
    this.#kick(batch.id, false);
    return batch;
  }

  get(id: string): Batch | null {
    return this.#o.batches.get(id);
  }

  counts(id: string): LineCounts {
    return this.#o.batches.counts(id);
  }

  list(owner: string, after: string | undefined, limit: number): { batches: Batch[]; hasMore: boolean } {
    return this.#o.batches.list(owner, after, limit);
  }

  /** validating or in_progress → cancelling (the children are cancelled next); a batch already cancelling or cancelled is returned as it is. */
  cancel(id: string): Batch | null {
    const batch = this.#o.batches.get(id);
    if (batch === null) return null;
    if (batch.status === "cancelling" || batch.status === "cancelled") return batch;
    const applied = this.#transition(id, "cancel");
    if (!applied.ok) throw new FlotillaError("conflict", `the batch cannot be cancelled: it is ${batch.status}`);
    this.#kick(id, true);
    return applied.batch;
  }

  /** Called with the batch after each change of its status. Returns the unsubscribe. */
  subscribe(listener: (batch: Batch) => void): () => void {
    const entry = (batch: Batch) => listener(batch);
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }

  /** Looks at every unfinished batch now, as the timer does: its window, and the queue's state of its jobs. */
  check(): void {
    this.#checkAll();
  }

  /** Resolves once no batch has a run on (tests: the work a check started is done). */
  async settled(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running.values()]);
  }

  #checkAll(): void {
    if (this.#stopped) return;
    for (const batch of this.#o.batches.unfinished()) this.#kick(batch.id, true);
  }

  /** Runs advance() for the batch, or once more after the run that is on. */
  #kick(id: string, reconcile: boolean): void {
    if (this.#stopped) return;
    if (this.#running.has(id)) {
      this.#again.set(id, (this.#again.get(id) ?? false) || reconcile);
      return;
    }
    const run = this.#advance(id, reconcile)
      .catch((err: unknown) => this.#o.log.warn({ err, batch: id }, "a batch could not advance; it is tried again on the next check"))
      .finally(() => {
        this.#running.delete(id);
        const again = this.#again.get(id);
        if (again !== undefined) {
          this.#again.delete(id);
          this.#kick(id, again);
        }
      });
    this.#running.set(id, run);
  }

  async #advance(id: string, reconcile: boolean): Promise<void> {
    let batch = this.#o.batches.get(id);
    if (batch === null || isBatchTerminal(batch.status)) return;
    if (batch.status === "validating") {
      await this.#enqueueLines(batch);
      batch = this.#o.batches.get(id);
      if (batch === null || this.#stopped) return;
      reconcile = true;
    }
    const expired = this.#o.nowMs() >= batch.expiresAtMs;
    if (batch.status === "in_progress" || batch.status === "validating") {
      if (expired) {
        await this.#end(batch, "expire", "expired");
        return;
      }
      if (reconcile) await this.#reconcile(batch);
      if (batch.status === "in_progress" && !this.#o.batches.anyPending(id)) {
        const settled = this.#transition(id, "settle");
        if (settled.ok) batch = settled.batch;
      }
    }
    if (batch.status === "finalizing") await this.#writeOutputs(batch, "finish", "completed");
    else if (batch.status === "cancelling") await this.#end(batch, "finish", "cancelled");
  }

  /** Queues every line not yet queued, then moves the batch on: in_progress, or failed when its input is gone. */
  async #enqueueLines(batch: Batch): Promise<void> {
    const { batches, queue, files } = this.#o;
    const unqueued = new Set<number>();
    for (let after = 0; ; ) {
      const page = batches.lines(batch.id, "all", after, PAGE * 10);
      if (page.length === 0) break;
      for (const row of page) if (row.jobId === null && row.outcome === null) unqueued.add(row.line);
      after = page.at(-1)?.line ?? after;
    }
    // get() hides an expired file; the batch that read it still may.
    const input = files.get(batch.inputFileId);
    if (unqueued.size > 0 && input === null) {
      await this.#fail(batch, { code: "input_file_missing", message: `the input file ${batch.inputFileId} was deleted before every line was queued`, line: null, param: "input_file_id" });
      return;
    }
    if (input !== null && unqueued.size > 0) {
      let sinceCheck = 0;
      for await (const raw of readBatchLines(files.open(input))) {
        if (!unqueued.has(raw.line)) continue;
        if (this.#stopped) return;
        if (++sinceCheck >= RECHECK_EVERY_LINES) {
          sinceCheck = 0;
          if (batches.get(batch.id)?.status !== "validating") return;
        }
        // Checked when the batch was made; the blob is named by its hash, so it is the same file.
        const request = parseBatchLine(raw, batch.endpoint, () => {});
        const job = await queue.enqueue({
          kind: request.kind,
          input: request.body,
          priority: this.#o.priority,
          owner: batch.owner,
          parentId: batch.id,
          idempotencyKey: `${batch.id}:${raw.line}`,
        });
        batches.setJob(batch.id, raw.line, job.id);
        if (isTerminal(job.state)) this.#queueOutcome(batch.id, raw.line, job);
      }
    }
    this.#transition(batch.id, "enqueued");
  }

  /** Records the outcome of every child that is terminal (events missed across a restart, or from another coordinator). */
  async #reconcile(batch: Batch): Promise<void> {
    await this.#eachChild(batch.id, (job) => {
      const line = lineOf(batch.id, job);
      if (line === null) return;
      if (isTerminal(job.state)) this.#o.batches.recordOutcome(batch.id, line, job.id, outcomeOf(job));
      else this.#o.batches.setJob(batch.id, line, job.id);
    });
  }

  /** Cancels the children still waiting or running, records every outcome, writes the partial output and ends the batch. */
  async #end(batch: Batch, event: BatchEvent, ending: BatchEnding): Promise<void> {
    await this.#eachChild(batch.id, async (job) => {
      if (!isTerminal(job.state)) await this.#o.queue.cancel(job.id);
    });
    this.#flushOutcomes();
    await this.#reconcile(batch);
    this.#o.batches.cancelUnqueued(batch.id);
    if (this.#o.batches.anyPending(batch.id)) {
      // A child that is not terminal after its cancel: the next check tries again.
      this.#o.log.warn({ batch: batch.id }, "some of a batch's jobs did not end when cancelled");
      return;
    }
    await this.#writeOutputs(batch, event, ending);
  }

  async #fail(batch: Batch, failure: BatchFailure): Promise<void> {
    await this.#eachChild(batch.id, async (job) => {
      if (!isTerminal(job.state)) await this.#o.queue.cancel(job.id);
    });
    this.#transition(batch.id, "fail", { errors: [failure] });
  }

  /** Writes the output and error files (only those with lines) and applies `event` with them, in one transaction. */
  async #writeOutputs(batch: Batch, event: BatchEvent, ending: BatchEnding): Promise<void> {
    const { files, db, batches } = this.#o;
    const staged: StagedBlob[] = [];
    try {
      const output = await files.stage(Readable.from(this.#records(batch, "output", ending)));
      staged.push(output);
      const errors = await files.stage(Readable.from(this.#records(batch, "error", ending)));
      staged.push(errors);
      const applied = db.transaction(() => {
        const fresh = batches.get(batch.id);
        if (fresh === null) return null;
        const meta = (which: string) => ({ owner: fresh.owner, purpose: "batch_output", filename: `${fresh.id}_${which}.jsonl` });
        const outputFileId = output.bytes > 0 ? files.record(output, meta("output")).id : null;
        const errorFileId = errors.bytes > 0 ? files.record(errors, meta("error")).id : null;
        const next = applyBatchEvent(fresh, event, this.#o.nowMs(), { outputFileId, errorFileId });
        // Refused (cancelled meanwhile, say): roll the file rows back; the next run writes them for the state it finds.
        if (!next.ok) throw new RefusedMove(next.reason);
        batches.save(next.batch);
        return next.batch;
      });
      if (applied !== null) this.#emit(applied);
    } catch (err) {
      if (!(err instanceof RefusedMove)) throw err;
    } finally {
      for (const blob of staged) files.release(blob);
    }
  }

  /** The lines of one file, in line order. */
  async *#records(batch: Batch, file: "output" | "error", ending: BatchEnding): AsyncGenerator<string> {
    for (let after = 0; ; ) {
      const page = this.#o.batches.lines(batch.id, "all", after, PAGE);
      if (page.length === 0) return;
      for (const row of page) {
        const job = row.jobId === null ? null : await this.#o.queue.get(row.jobId);
        const placed = placeLine(batch.id, row, job, ending);
        if (placed.file === file) yield recordLine(placed.record);
      }
      after = page.at(-1)?.line ?? after;
    }
  }

  async #eachChild(batchId: string, visit: (job: Job) => Promise<void> | void): Promise<void> {
    let cursor: string | null = null;
    do {
      const page = await this.#o.queue.list({ parentId: batchId }, { cursor, limit: 1000 });
      for (const job of page.jobs) await visit(job);
      cursor = page.nextCursor;
    } while (cursor !== null);
  }

  /** Applies `event` to the stored batch (read again inside the transaction: a cancel may have come meanwhile). */
  #transition(id: string, event: BatchEvent, changes: Partial<Pick<Batch, "errors">> = {}): { ok: true; batch: Batch } | { ok: false; reason: string } {
    const applied = this.#o.db.transaction(() => {
      const fresh = this.#o.batches.get(id);
      if (fresh === null) return { ok: false as const, reason: "no such batch" };
      const next = applyBatchEvent(fresh, event, this.#o.nowMs(), changes);
      if (next.ok) this.#o.batches.save(next.batch);
      return next;
    });
    if (applied.ok) this.#emit(applied.batch);
    return applied;
  }

  #emit(batch: Batch): void {
    for (const listener of this.#listeners) {
      try {
        listener(batch);
      } catch (err) {
        this.#o.log.warn({ err, batch: batch.id }, "a batch listener threw");
      }
    }
  }

  #onJobChange(change: JobChange): void {
    if (change.type !== "state" || !isTerminal(change.job.state)) return;
    const batchId = change.job.parentId;
    if (batchId === null || !batchId.startsWith("batch_")) return;
    const line = lineOf(batchId, change.job);
    if (line !== null) this.#queueOutcome(batchId, line, change.job);
  }

  /** Outcomes are written together, one transaction a tick: a batch of 50,000 lines is not 50,000 synced commits. */
  #queueOutcome(batchId: string, line: number, job: Job): void {
    this.#outcomes.push({ batchId, line, job });
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => this.#flushOutcomes());
  }

  #flushOutcomes(): void {
    this.#flushScheduled = false;
    const outcomes = this.#outcomes;
    if (outcomes.length === 0) return;
    this.#outcomes = [];
    const touched = new Set<string>();
    try {
      this.#o.db.transaction(() => {
        for (const { batchId, line, job } of outcomes) {
          if (this.#o.batches.recordOutcome(batchId, line, job.id, outcomeOf(job))) touched.add(batchId);
        }
      });
    } catch (err) {
      // Lost outcomes are found again by the next check's reconcile.
      this.#o.log.warn({ err }, "could not record batch line outcomes");
      return;
    }
    for (const batchId of touched) if (!this.#o.batches.anyPending(batchId)) this.#kick(batchId, false);
  }
}

class RefusedMove extends Error {}

/** The line a child job was queued for, from its idempotency key `<batch>:<line>`. */
function lineOf(batchId: string, job: Job): number | null {
  const key = job.idempotencyKey;
  if (key === null || !key.startsWith(`${batchId}:`)) return null;
  const line = Number(key.slice(batchId.length + 1));
  return Number.isSafeInteger(line) && line > 0 ? line : null;
}

function outcomeOf(job: Job): LineOutcome {
  switch (job.state) {
    case "succeeded":
    case "failed":
    case "dead":
    case "cancelled":
      return job.state;
    case "queued":
    case "leased":
    case "running":
      throw new Error(`a ${job.state} job has no outcome`);
  }
}
