// The SQLite schema, one migration per version. The version lives in
// `PRAGMA user_version`, as it always has (docs/adr/0005), so data
// directories written before this file existed open unchanged. Each
// migration and its version bump commit together or not at all: a migration
// that fails leaves the data at the version before it.
import type { DatabaseSync } from "node:sqlite";
import { immediateTransaction } from "./transaction.ts";

export interface Migration {
  /** The schema version once it has run: 1, 2, 3... in order. */
  version: number;
  sql: string;
}

// Released migrations are never edited: databases out there were built by them.
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
        CREATE TABLE api_keys (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          prefix TEXT NOT NULL,
          hash TEXT NOT NULL UNIQUE,
          created_at_ms INTEGER NOT NULL
        );`,
  },
  {
    version: 2,
    sql: `
        CREATE TABLE join_tokens (
          id TEXT PRIMARY KEY,
          hash TEXT NOT NULL UNIQUE,
          expires_at_ms INTEGER NOT NULL,
          uses_left INTEGER NOT NULL,
          created_at_ms INTEGER NOT NULL
        );
        CREATE TABLE nodes (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL UNIQUE,
          url TEXT NOT NULL,
          tier INTEGER NOT NULL,
          pool TEXT NOT NULL,
          credential_hash TEXT NOT NULL UNIQUE,
          hardware_json TEXT,
          drained INTEGER NOT NULL DEFAULT 0,
          joined_at_ms INTEGER NOT NULL
        );`,
  },
  {
    // Agentless nodes added through the API. Lists and maps are JSON: they
    // are only ever read whole. No token column: only its variable's name.
    version: 3,
    sql: `
        CREATE TABLE static_nodes (
          name TEXT PRIMARY KEY,
          url TEXT NOT NULL,
          kind TEXT NOT NULL,
          tier INTEGER NOT NULL,
          pool TEXT NOT NULL,
          models_json TEXT NOT NULL,
          weight REAL NOT NULL,
          labels_json TEXT NOT NULL,
          api_key_env TEXT,
          drained INTEGER NOT NULL DEFAULT 0,
          added_at_ms INTEGER NOT NULL
        );`,
  },
  {
    // Conversations of /cluster/execute. A turn's place is its `seq`, not
    // its time: two turns stored in the same millisecond keep their order.
    version: 4,
    sql: `
        CREATE TABLE conversations (
          id TEXT PRIMARY KEY,
          created_at_ms INTEGER NOT NULL,
          updated_at_ms INTEGER NOT NULL
        );
        CREATE TABLE conversation_turns (
          conversation_id TEXT NOT NULL,
          seq INTEGER NOT NULL,
          role TEXT NOT NULL,
          content TEXT NOT NULL,
          created_at_ms INTEGER NOT NULL,
          PRIMARY KEY (conversation_id, seq)
        ) WITHOUT ROWID;`,
  },
  {
    // Each conversation belongs to the caller that started it (docs/adr/0026).
    // Those stored before had no owner and could be continued by anyone, which
    // only an open coordinator (no API key) allowed safely: they become open
    // mode's, so they keep working there and no key can take them over.
    // `updated_at_ms` is indexed for the retention sweep.
    version: 5,
    sql: `
        ALTER TABLE conversations ADD COLUMN owner TEXT NOT NULL DEFAULT 'open';
        CREATE INDEX conversations_by_update ON conversations (updated_at_ms);`,
  },
  {
    // The models each agent last reported, so a restarted coordinator answers
    // "expected back, retry" rather than "no such model" until the agent's
    // first heartbeat (docs/adr/0027). NULL: never reported.
    version: 6,
    sql: `ALTER TABLE nodes ADD COLUMN models_json TEXT;`,
  },
];

/** The version a database is at once every migration has run. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

export function schemaVersion(db: DatabaseSync): number {
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number } | undefined;
  return row?.user_version ?? 0;
}

/**
 * Brings the database up to the last of `migrations` (the tests add a failing
 * one), each in its own transaction. Refuses a database written by a newer
 * flotilla rather than misread it.
 */
export function migrate(db: DatabaseSync, migrations: readonly Migration[] = MIGRATIONS): void {
  const latest = migrations.at(-1)?.version ?? 0;
  const found = schemaVersion(db);
  if (found > latest) {
    throw new Error(`the data directory was written by a newer flotilla (schema ${found}); upgrade flotilla`);
  }
  for (const migration of migrations) {
    if (migration.version <= found) continue;
    try {
      immediateTransaction(db, () => {
        // Another coordinator opening the same file may have run it since `found` was read.
        if (schemaVersion(db) >= migration.version) return;
        db.exec(migration.sql);
        // PRAGMA takes no bound parameters; the version is an integer of ours.
        db.exec(`PRAGMA user_version = ${Math.trunc(migration.version)}`);
      });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(
        `schema migration ${migration.version} failed and was rolled back, the data directory stays at schema ${schemaVersion(db)}: ${reason}`,
        { cause: err },
      );
    }
  }
}
