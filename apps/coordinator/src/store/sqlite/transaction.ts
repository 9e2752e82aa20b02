// One write transaction on a node:sqlite connection. IMMEDIATE takes the
// write lock at BEGIN, so what is read inside (a schema version, the next
// turn's place) cannot change before the writes that depend on it.
import type { DatabaseSync } from "node:sqlite";

/** Runs `work` between BEGIN IMMEDIATE and COMMIT; rolls back and rethrows if it throws. */
export function immediateTransaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = work();
    db.exec("COMMIT");
    return result;
  } catch (err) {
    // A failed COMMIT (or an error SQLite answered with its own rollback) may
    // have ended the transaction already.
    if (db.isTransaction) db.exec("ROLLBACK");
    throw err;
  }
}
