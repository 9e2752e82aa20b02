// files.db: one node:sqlite connection, WAL with synchronous=FULL (an
// uploaded file or a finished batch that was acknowledged survives a power
// cut, as an accepted job does, docs/adr/0034), 0600 because files hold
// prompts and answers (ADR 0025).
import { DatabaseSync } from "node:sqlite";
import { ensurePrivateFileSync, restrictIfPresentSync } from "@flotilla/security/private-files";
import { migrate } from "../../store/sqlite/migrations.ts";
import { immediateTransaction } from "../../store/sqlite/transaction.ts";
import { FILES_DB_MIGRATIONS } from "./files-db-schema.ts";

export class FilesDb {
  readonly db: DatabaseSync;

  /** `file` is a path (made 0600) or ":memory:". Throws when the schema cannot be brought up to date. */
  constructor(file: string) {
    const onDisk = file !== ":memory:" && file !== "";
    if (onDisk) ensurePrivateFileSync(file);
    const db = new DatabaseSync(file);
    try {
      db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
      migrate(db, FILES_DB_MIGRATIONS);
      if (onDisk) for (const suffix of ["-wal", "-shm", "-journal"]) restrictIfPresentSync(`${file}${suffix}`);
    } catch (err) {
      db.close();
      throw err;
    }
    this.db = db;
  }

  /** One IMMEDIATE transaction: what the file store and the batch store write together commits together. */
  transaction<T>(work: () => T): T {
    return immediateTransaction(this.db, work);
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
