// Opening one of the coordinator's SQLite files (flotilla.db, jobs.db,
// files.db, webhooks.db) the one way they are all opened: 0600 whatever the
// directory and umask, since each holds keys, prompts or answers (ADR 0025);
// WAL; the schema brought up to date. SQLite gives the -wal and -shm files it
// creates the database file's own mode, so the file is made first; ones left
// by an older version are narrowed too.
import { DatabaseSync } from "node:sqlite";
import { ensurePrivateFileSync, restrictIfPresentSync } from "@flotilla/security/private-files";
import { migrate, type Migration } from "./migrations.ts";

export interface OpenOptions {
  migrations: readonly Migration[];
  /** FULL: every commit synced, so what was acknowledged survives a power cut (jobs, files); NORMAL: a crash of the process. */
  synchronous: "FULL" | "NORMAL";
}

/** `file` is a path or ":memory:". Throws, leaving no open handle, when the schema cannot be brought up to date. */
export function openPrivateDatabase(file: string, options: OpenOptions): DatabaseSync {
  const onDisk = file !== ":memory:" && file !== "";
  if (onDisk) ensurePrivateFileSync(file);
  const db = new DatabaseSync(file);
  try {
    db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${options.synchronous}; PRAGMA busy_timeout = 5000;`);
    migrate(db, options.migrations);
    if (onDisk) for (const suffix of ["-wal", "-shm", "-journal"]) restrictIfPresentSync(`${file}${suffix}`);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
