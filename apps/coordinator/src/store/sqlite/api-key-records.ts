import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { ApiKeyRecord, ApiKeyRecords } from "../api-key-records.ts";

// node:sqlite is synchronous; every method wraps its work in Promise.try so
// a throw arrives as a rejection, the contract the Redis store will also keep.
export class SqliteApiKeyRecords implements ApiKeyRecords {
  readonly #insert: StatementSync;
  readonly #list: StatementSync;
  readonly #delete: StatementSync;
  readonly #hashes: StatementSync;

  constructor(db: DatabaseSync) {
    this.#insert = db.prepare("INSERT INTO api_keys (id, name, prefix, hash, created_at_ms) VALUES (?, ?, ?, ?, ?)");
    this.#list = db.prepare("SELECT id, name, prefix, created_at_ms FROM api_keys ORDER BY created_at_ms, id");
    this.#delete = db.prepare("DELETE FROM api_keys WHERE id = ?");
    this.#hashes = db.prepare("SELECT hash FROM api_keys");
  }

  add(record: ApiKeyRecord, hash: string): Promise<void> {
    return Promise.try(() => {
      this.#insert.run(record.id, record.name, record.prefix, hash, record.createdAtMs);
    });
  }

  list(): Promise<ApiKeyRecord[]> {
    return Promise.try(() => {
      const rows = this.#list.all() as Array<{ id: string; name: string; prefix: string; created_at_ms: number }>;
      return rows.map((r) => ({ id: r.id, name: r.name, prefix: r.prefix, createdAtMs: r.created_at_ms }));
    });
  }

  remove(id: string): Promise<boolean> {
    return Promise.try(() => Number(this.#delete.run(id).changes) > 0);
  }

  hashes(): Promise<string[]> {
    return Promise.try(() => (this.#hashes.all() as Array<{ hash: string }>).map((r) => r.hash));
  }
}
