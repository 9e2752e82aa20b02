// The schema of files.db: uploaded and generated files (their metadata; the
// bytes are blobs beside it, see blob-store.ts) and the OpenAI batches that
// read and write them (jobs/batches). One file for both, so a batch's output
// files and the batch's move to `completed` commit in one transaction
// (docs/adr/0037). Its own file, apart from the store's and the queue's: it
// versions on its own. Released migrations are never edited.
import type { Migration } from "../../store/sqlite/migrations.ts";

export const FILES_DB_MIGRATIONS: readonly Migration[] = [
  {
    // `seq` is the upload order (lists and their cursors). `sha256` names the
    // blob; several files may share one. `expires_at_ms` NULL: kept until deleted.
    // A batch is kept whole as JSON beside the columns its queries use; its
    // lines are rows, so a line's outcome is recorded once, by line number;
    // the partial index answers "is any line still pending?" without a scan.
    version: 1,
    sql: `
        CREATE TABLE files (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          id TEXT NOT NULL UNIQUE,
          owner TEXT NOT NULL,
          purpose TEXT NOT NULL,
          filename TEXT NOT NULL,
          bytes INTEGER NOT NULL,
          sha256 TEXT NOT NULL,
          created_at_ms INTEGER NOT NULL,
          expires_at_ms INTEGER
        );
        CREATE INDEX files_by_owner ON files (owner, seq);
        CREATE INDEX files_by_sha256 ON files (sha256);
        CREATE INDEX files_by_expiry ON files (expires_at_ms) WHERE expires_at_ms IS NOT NULL;
        CREATE TABLE batches (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          id TEXT NOT NULL UNIQUE,
          owner TEXT NOT NULL,
          status TEXT NOT NULL,
          batch_json TEXT NOT NULL
        );
        CREATE INDEX batches_by_owner ON batches (owner, seq);
        CREATE INDEX batches_by_status ON batches (status);
        CREATE TABLE batch_lines (
          batch_id TEXT NOT NULL,
          line INTEGER NOT NULL,
          custom_id TEXT NOT NULL,
          job_id TEXT,
          outcome TEXT,
          PRIMARY KEY (batch_id, line)
        ) WITHOUT ROWID;
        CREATE INDEX batch_lines_pending ON batch_lines (batch_id) WHERE outcome IS NULL;`,
  },
];
