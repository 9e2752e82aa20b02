// The jobs database's schema. Its own file beside the store's (docs/adr/0034):
// the queue commits with synchronous=FULL and the store does not, and its
// versions count apart from the store's. Released migrations are never edited.
import type { Migration } from "../store/sqlite/migrations.ts";

export const JOB_MIGRATIONS: readonly Migration[] = [
  {
    // The whole job is JSON, read back whole; the columns beside it are the
    // ones queries filter and order by. `seq` is the enqueue order (lists,
    // cursors); `queue_seq` the place among the pool's queued jobs of a
    // priority, drawn again each time the job is queued again.
    version: 1,
    sql: `
        CREATE TABLE jobs (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          id TEXT NOT NULL UNIQUE,
          pool TEXT NOT NULL,
          kind TEXT NOT NULL,
          state TEXT NOT NULL,
          priority_rank INTEGER NOT NULL,
          queue_seq INTEGER NOT NULL,
          not_before_ms INTEGER NOT NULL,
          lease_deadline_ms INTEGER,
          idempotency_key TEXT UNIQUE,
          owner TEXT,
          parent_id TEXT,
          job_json TEXT NOT NULL
        );
        CREATE INDEX jobs_by_queue ON jobs (pool, state, priority_rank, queue_seq);
        CREATE INDEX jobs_by_owner ON jobs (owner, state) WHERE owner IS NOT NULL;
        CREATE INDEX jobs_by_parent ON jobs (parent_id) WHERE parent_id IS NOT NULL;
        CREATE INDEX jobs_by_lease_deadline ON jobs (lease_deadline_ms) WHERE lease_deadline_ms IS NOT NULL;
        CREATE TABLE job_queue_seq (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
        INSERT INTO job_queue_seq (id, value) VALUES (1, 0);`,
  },
];
