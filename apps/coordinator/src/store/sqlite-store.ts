// The embedded store: Node's built-in SQLite (node:sqlite), so a fresh machine
// needs no native add-on build and no external service (docs/adr/0005).
import { DatabaseSync } from "node:sqlite";
import type { ApiKeyRecord, Store } from "./store.ts";

const SCHEMA_VERSION = 1;

export class SqliteStore implements Store {
  readonly #db: DatabaseSync;

  /** `file` is a path, or ":memory:". */
  constructor(file: string) {
    this.#db = new DatabaseSync(file);
    this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
    this.#migrate();
  }

  #migrate(): void {
    const row = this.#db.prepare("PRAGMA user_version").get() as { user_version: number } | undefined;
    const version = row?.user_version ?? 0;
    if (version > SCHEMA_VERSION) {
      throw new Error(`the data directory was written by a newer flotilla (schema ${version}); upgrade flotilla`);
    }
    if (version < 1) {
      this.#db.exec(`
        CREATE TABLE api_keys (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          prefix TEXT NOT NULL,
          hash TEXT NOT NULL UNIQUE,
          created_at_ms INTEGER NOT NULL
        );
        PRAGMA user_version = 1;
      `);
    }
  }

  // node:sqlite is synchronous; Promise.try turns its throws into rejections
  // so callers see the same async contract as the Redis store will give.
  addApiKey(record: ApiKeyRecord, hash: string): Promise<void> {
    return Promise.try(() => {
      this.#db
        .prepare("INSERT INTO api_keys (id, name, prefix, hash, created_at_ms) VALUES (?, ?, ?, ?, ?)")
        .run(record.id, record.name, record.prefix, hash, record.createdAtMs);
    });
  }

  listApiKeys(): Promise<ApiKeyRecord[]> {
    return Promise.try(() => {
      const rows = this.#db
        .prepare("SELECT id, name, prefix, created_at_ms FROM api_keys ORDER BY created_at_ms, id")
        .all() as Array<{ id: string; name: string; prefix: string; created_at_ms: number }>;
      return rows.map((r) => ({ id: r.id, name: r.name, prefix: r.prefix, createdAtMs: r.created_at_ms }));
    });
  }

  removeApiKey(id: string): Promise<boolean> {
    return Promise.try(() => Number(this.#db.prepare("DELETE FROM api_keys WHERE id = ?").run(id).changes) > 0);
  }

  apiKeyHashes(): Promise<string[]> {
    return Promise.try(() => {
      const rows = this.#db.prepare("SELECT hash FROM api_keys").all() as Array<{ hash: string }>;
      return rows.map((r) => r.hash);
    });
  }

  close(): Promise<void> {
    return Promise.try(() => this.#db.close());
  }
}
