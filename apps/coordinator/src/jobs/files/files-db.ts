// files.db: one node:sqlite connection, WAL with synchronous=FULL (an
// uploaded file or a finished batch that was acknowledged survives a power
// cut, as an accepted job does, docs/adr/0034), 0600 because files hold
// prompts and answers (ADR 0025).
import type { DatabaseSync } from "node:sqlite";
import { openPrivateDatabase } from "../../store/sqlite/private-database.ts";
import { immediateTransaction } from "../../store/sqlite/transaction.ts";
import { FILES_DB_MIGRATIONS } from "./files-db-schema.ts";

export class FilesDb {
  readonly db: DatabaseSync;

  /** `file` is a path (made 0600) or ":memory:". Throws when the schema cannot be brought up to date. */
  constructor(file: string) {
    this.db = openPrivateDatabase(file, { migrations: FILES_DB_MIGRATIONS, synchronous: "FULL" });
  }

  /** One IMMEDIATE transaction: what the file store and the batch store write together commits together. */
  transaction<T>(work: () => T): T {
    return immediateTransaction(this.db, work);
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
