// webhooks.db: the webhooks this coordinator owes (docs/adr/0036). A row is
// written when a job with a webhook is accepted (`watching`), filled with the
// event once the job is terminal (`pending`), and ends `delivered` or
// `gave_up`. Written before anything is sent, with WAL and synchronous=FULL
// like jobs.db, so a coordinator that dies with a webhook owed sends it after
// its restart. 0600: the body holds the job's result.
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { Migration } from "../../store/sqlite/migrations.ts";
import { openPrivateDatabase } from "../../store/sqlite/private-database.ts";

export type WebhookState = "watching" | "pending" | "delivered" | "gave_up";

export interface WebhookDelivery {
  jobId: string;
  owner: string;
  url: string;
  state: WebhookState;
  /** The Standard Webhooks message id: one per event, the same on every retry of it. */
  eventId: string | null;
  /** The exact bytes sent (and signed); null while watching. */
  body: string | null;
  attempts: number;
  nextAtMs: number | null;
  lastError: string | null;
  updatedAtMs: number;
}

// Released migrations are never edited.
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
        CREATE TABLE webhooks (
          job_id TEXT PRIMARY KEY,
          owner TEXT NOT NULL,
          url TEXT NOT NULL,
          state TEXT NOT NULL,
          event_id TEXT,
          body TEXT,
          attempts INTEGER NOT NULL DEFAULT 0,
          next_at_ms INTEGER,
          last_error TEXT,
          updated_at_ms INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX webhooks_due ON webhooks (next_at_ms) WHERE state = 'pending';
        CREATE INDEX webhooks_watching ON webhooks (job_id) WHERE state = 'watching';
        CREATE INDEX webhooks_finished ON webhooks (updated_at_ms) WHERE state IN ('delivered', 'gave_up');`,
  },
];

interface Row {
  job_id: string;
  owner: string;
  url: string;
  state: WebhookState;
  event_id: string | null;
  body: string | null;
  attempts: number;
  next_at_ms: number | null;
  last_error: string | null;
  updated_at_ms: number;
}

export class WebhookOutbox {
  readonly #db: DatabaseSync;
  readonly #watch: StatementSync;
  readonly #ready: StatementSync;
  readonly #get: StatementSync;
  readonly #due: StatementSync;
  readonly #watching: StatementSync;
  readonly #sent: StatementSync;
  readonly #retry: StatementSync;
  readonly #giveUp: StatementSync;
  readonly #prune: StatementSync;

  /** `file` is a path (made 0600) or ":memory:". */
  constructor(file: string) {
    const db = openPrivateDatabase(file, { migrations: MIGRATIONS, synchronous: "FULL" });
    this.#db = db;
    this.#watch = db.prepare("INSERT OR IGNORE INTO webhooks (job_id, owner, url, state, updated_at_ms) VALUES (?, ?, ?, 'watching', ?)");
    this.#ready = db.prepare(
      "UPDATE webhooks SET state = 'pending', event_id = ?, body = ?, next_at_ms = ?, updated_at_ms = ? WHERE job_id = ? AND state = 'watching'",
    );
    this.#get = db.prepare("SELECT * FROM webhooks WHERE job_id = ?");
    this.#due = db.prepare("SELECT * FROM webhooks WHERE state = 'pending' AND next_at_ms <= ? ORDER BY next_at_ms LIMIT ?");
    this.#watching = db.prepare("SELECT job_id FROM webhooks WHERE state = 'watching' AND job_id > ? ORDER BY job_id LIMIT ?");
    this.#sent = db.prepare(
      "UPDATE webhooks SET state = 'delivered', attempts = attempts + 1, next_at_ms = NULL, last_error = NULL, updated_at_ms = ? WHERE job_id = ? AND state = 'pending'",
    );
    this.#retry = db.prepare(
      "UPDATE webhooks SET attempts = attempts + 1, next_at_ms = ?, last_error = ?, updated_at_ms = ? WHERE job_id = ? AND state = 'pending'",
    );
    this.#giveUp = db.prepare(
      "UPDATE webhooks SET state = 'gave_up', attempts = attempts + 1, next_at_ms = NULL, last_error = ?, updated_at_ms = ? WHERE job_id = ? AND state = 'pending'",
    );
    this.#prune = db.prepare("DELETE FROM webhooks WHERE state IN ('delivered', 'gave_up') AND updated_at_ms < ?");
  }

  /** Owes a webhook for the job once it ends. A second call for the same job changes nothing. */
  watch(jobId: string, owner: string, url: string, nowMs: number): void {
    this.#watch.run(jobId, owner, url, nowMs);
  }

  /** The job ended: the event to send, due now. False when it was not being watched (or is already pending). */
  ready(jobId: string, event: { id: string; body: string }, nowMs: number): boolean {
    return Number(this.#ready.run(event.id, event.body, nowMs, nowMs, jobId).changes) === 1;
  }

  get(jobId: string): WebhookDelivery | null {
    const row = this.#get.get(jobId) as Row | undefined;
    return row === undefined ? null : fromRow(row);
  }

  /** Pending deliveries due by `nowMs`, the longest-waiting first. */
  due(nowMs: number, limit: number): WebhookDelivery[] {
    return (this.#due.all(nowMs, limit) as unknown as Row[]).map(fromRow);
  }

  /** Ids of watched jobs after `afterJobId` (""), in id order: a page for reconciling with the queue. */
  watching(afterJobId: string, limit: number): string[] {
    return (this.#watching.all(afterJobId, limit) as unknown as { job_id: string }[]).map((row) => row.job_id);
  }

  delivered(jobId: string, nowMs: number): void {
    this.#sent.run(nowMs, jobId);
  }

  retryAt(jobId: string, atMs: number, error: string, nowMs: number): void {
    this.#retry.run(atMs, error, nowMs, jobId);
  }

  gaveUp(jobId: string, error: string, nowMs: number): void {
    this.#giveUp.run(error, nowMs, jobId);
  }

  /** Forgets finished deliveries last touched before `beforeMs`; how many. */
  prune(beforeMs: number): number {
    return Number(this.#prune.run(beforeMs).changes);
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}

function fromRow(row: Row): WebhookDelivery {
  return {
    jobId: row.job_id,
    owner: row.owner,
    url: row.url,
    state: row.state,
    eventId: row.event_id,
    body: row.body,
    attempts: row.attempts,
    nextAtMs: row.next_at_ms,
    lastError: row.last_error,
    updatedAtMs: row.updated_at_ms,
  };
}
