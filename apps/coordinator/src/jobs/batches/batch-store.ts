// Batches and their lines in files.db (docs/adr/0037). A line's row names its
// job once the job is queued and its outcome (the job's terminal state) once
// it has one; an outcome is recorded once, so counting an event twice (from
// the queue and from a reconcile) changes nothing.
import type { StatementSync } from "node:sqlite";
import type { FilesDb } from "../files/files-db.ts";
import type { Batch } from "./batch.ts";
import { BATCH_STATUSES, isBatchTerminal, type BatchStatus } from "./batch-state.ts";

/** A child job's terminal state, as a line's outcome. */
export type LineOutcome = "succeeded" | "failed" | "dead" | "cancelled";

export interface BatchLineRow {
  line: number;
  customId: string;
  jobId: string | null;
  outcome: LineOutcome | null;
}

export interface LineCounts {
  /** Lines whose job succeeded. */
  completed: number;
  /** Lines whose job failed, died or was cancelled. */
  failed: number;
  /** Lines without an outcome yet. */
  pending: number;
}

const UNFINISHED: readonly BatchStatus[] = BATCH_STATUSES.filter((s) => !isBatchTerminal(s));

interface Statements {
  insert: StatementSync;
  insertLine: StatementSync;
  byId: StatementSync;
  update: StatementSync;
  unfinished: StatementSync;
  seqOf: StatementSync;
  page: StatementSync;
  setJob: StatementSync;
  setOutcome: StatementSync;
  cancelUnqueued: StatementSync;
  counts: StatementSync;
  lines: StatementSync;
  lineCount: StatementSync;
  anyPending: StatementSync;
}

export class BatchStore {
  readonly #db: FilesDb;
  readonly #sql: Statements;

  constructor(db: FilesDb) {
    this.#db = db;
    const { db: sql } = db;
    this.#sql = {
      insert: sql.prepare("INSERT INTO batches (id, owner, status, batch_json) VALUES (?, ?, ?, ?)"),
      insertLine: sql.prepare("INSERT INTO batch_lines (batch_id, line, custom_id) VALUES (?, ?, ?)"),
      byId: sql.prepare("SELECT batch_json FROM batches WHERE id = ?"),
      update: sql.prepare("UPDATE batches SET status = ?, batch_json = ? WHERE id = ?"),
      unfinished: sql.prepare("SELECT batch_json FROM batches WHERE status IN (SELECT value FROM json_each(?)) ORDER BY seq"),
      seqOf: sql.prepare("SELECT seq FROM batches WHERE id = ? AND owner = ?"),
      page: sql.prepare("SELECT batch_json FROM batches WHERE owner = ? AND seq < ? ORDER BY seq DESC LIMIT ?"),
      setJob: sql.prepare("UPDATE batch_lines SET job_id = ? WHERE batch_id = ? AND line = ? AND job_id IS NULL"),
      setOutcome: sql.prepare("UPDATE batch_lines SET job_id = ?, outcome = ? WHERE batch_id = ? AND line = ? AND outcome IS NULL"),
      cancelUnqueued: sql.prepare("UPDATE batch_lines SET outcome = 'cancelled' WHERE batch_id = ? AND job_id IS NULL AND outcome IS NULL"),
      counts: sql.prepare("SELECT outcome, COUNT(*) AS n FROM batch_lines WHERE batch_id = ? GROUP BY outcome"),
      lines: sql.prepare(`SELECT line, custom_id, job_id, outcome FROM batch_lines
        WHERE batch_id = $batch AND line > $after AND ($which = 'all' OR ($which = 'succeeded' AND outcome = 'succeeded') OR ($which = 'unsucceeded' AND (outcome IS NULL OR outcome <> 'succeeded')))
        ORDER BY line LIMIT $limit`),
      lineCount: sql.prepare("SELECT COUNT(*) AS n FROM batch_lines WHERE batch_id = ?"),
      anyPending: sql.prepare("SELECT 1 FROM batch_lines WHERE batch_id = ? AND outcome IS NULL LIMIT 1"),
    };
  }

  /** The batch and its lines, in one transaction. */
  create(batch: Batch, lines: readonly { line: number; customId: string }[]): void {
    this.#db.transaction(() => {
      this.#sql.insert.run(batch.id, batch.owner, batch.status, JSON.stringify(batch));
      for (const l of lines) this.#sql.insertLine.run(batch.id, l.line, l.customId);
    });
  }

  get(id: string): Batch | null {
    return batchOf(this.#sql.byId.get(id));
  }

  /** Stores the batch's new state. Synchronous: callable inside a FilesDb transaction. */
  save(batch: Batch): void {
    this.#sql.update.run(batch.status, JSON.stringify(batch), batch.id);
  }

  /** Every batch not yet terminal, oldest first: what a restart carries on with. */
  unfinished(): Batch[] {
    return this.#sql.unfinished.all(JSON.stringify(UNFINISHED)).map((r) => batchOf(r)).filter((b): b is Batch => b !== null);
  }

  /** One owner's batches, newest first, after the batch `after` (a cursor, as OpenAI's). */
  list(owner: string, after: string | undefined, limit: number): { batches: Batch[]; hasMore: boolean } {
    let before = Number.MAX_SAFE_INTEGER;
    if (after !== undefined) {
      const row = this.#sql.seqOf.get(after, owner);
      if (row === undefined) return { batches: [], hasMore: false };
      before = Number(row["seq"]);
    }
    const rows = this.#sql.page.all(owner, before, limit + 1);
    const batches = rows.map((r) => batchOf(r)).filter((b): b is Batch => b !== null);
    return { batches: batches.slice(0, limit), hasMore: rows.length > limit };
  }

  setJob(batchId: string, line: number, jobId: string): void {
    this.#sql.setJob.run(jobId, batchId, line);
  }

  /** Records a line's outcome; false when it already had one. */
  recordOutcome(batchId: string, line: number, jobId: string, outcome: LineOutcome): boolean {
    return Number(this.#sql.setOutcome.run(jobId, outcome, batchId, line).changes) > 0;
  }

  /** Lines never queued (the batch was cancelled or expired while validating) end cancelled. */
  cancelUnqueued(batchId: string): void {
    this.#sql.cancelUnqueued.run(batchId);
  }

  counts(batchId: string): LineCounts {
    const counts: LineCounts = { completed: 0, failed: 0, pending: 0 };
    for (const row of this.#sql.counts.all(batchId)) {
      const n = Number(row["n"]);
      const outcome = row["outcome"];
      if (outcome === null || outcome === undefined) counts.pending += n;
      else if (outcome === "succeeded") counts.completed += n;
      else counts.failed += n;
    }
    return counts;
  }

  /** Whether some line has no outcome yet (an index look-up, not a count). */
  anyPending(batchId: string): boolean {
    return this.#sql.anyPending.get(batchId) !== undefined;
  }

  lineCount(batchId: string): number {
    return Number(this.#sql.lineCount.get(batchId)?.["n"] ?? 0);
  }

  /** Lines in order, a page at a time: all, those that succeeded, or the others. */
  lines(batchId: string, which: "all" | "succeeded" | "unsucceeded", afterLine: number, limit: number): BatchLineRow[] {
    return this.#sql.lines.all({ batch: batchId, which, after: afterLine, limit }).map((r) => ({
      line: Number(r["line"]),
      customId: String(r["custom_id"]),
      jobId: typeof r["job_id"] === "string" ? r["job_id"] : null,
      outcome: outcomeOf(r["outcome"]),
    }));
  }
}

function outcomeOf(value: unknown): LineOutcome | null {
  return value === "succeeded" || value === "failed" || value === "dead" || value === "cancelled" ? value : null;
}

/** Our own JSON, written by this file: read back as it was written. */
function batchOf(row: Record<string, unknown> | undefined): Batch | null {
  const text = row?.["batch_json"];
  return typeof text === "string" ? (JSON.parse(text) as Batch) : null;
}
