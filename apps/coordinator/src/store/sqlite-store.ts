// The embedded store: Node's built-in SQLite (node:sqlite), so a fresh machine
// needs no native add-on build and no external service (docs/adr/0005).
import { DatabaseSync } from "node:sqlite";
import type { ChatTurn } from "@flotilla/protocol";
import type { ApiKeyRecord, JoinTokenRecord, NodeRecord, StaticNodeRecord, Store } from "./store.ts";

const SCHEMA_VERSION = 4;

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
    if (version < 2) {
      this.#db.exec(`
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
        );
        PRAGMA user_version = 2;
      `);
    }
    if (version < 3) {
      // Agentless nodes added through the API. Lists and maps are JSON: they
      // are only ever read whole. No token column: only its variable's name.
      this.#db.exec(`
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
        );
        PRAGMA user_version = 3;
      `);
    }
    if (version < 4) {
      // Conversations of /cluster/execute. A turn's place is its `seq`, not
      // its time: two turns stored in the same millisecond keep their order.
      this.#db.exec(`
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
        ) WITHOUT ROWID;
        PRAGMA user_version = 4;
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

  addJoinToken(record: JoinTokenRecord, hash: string): Promise<void> {
    return Promise.try(() => {
      this.#db
        .prepare("INSERT INTO join_tokens (id, hash, expires_at_ms, uses_left, created_at_ms) VALUES (?, ?, ?, ?, ?)")
        .run(record.id, hash, record.expiresAtMs, record.usesLeft, record.createdAtMs);
    });
  }

  spendJoinToken(hash: string, nowMs: number): Promise<boolean> {
    return Promise.try(() => {
      const spent = this.#db
        .prepare("UPDATE join_tokens SET uses_left = uses_left - 1 WHERE hash = ? AND uses_left > 0 AND expires_at_ms > ?")
        .run(hash, nowMs);
      // Spent-out and expired tokens are of no further use: keep the table small.
      this.#db.prepare("DELETE FROM join_tokens WHERE uses_left <= 0 OR expires_at_ms <= ?").run(nowMs);
      return Number(spent.changes) === 1;
    });
  }

  joinTokenUsable(hash: string, nowMs: number): Promise<boolean> {
    return Promise.try(() => {
      const row = this.#db.prepare("SELECT 1 AS ok FROM join_tokens WHERE hash = ? AND uses_left > 0 AND expires_at_ms > ?").get(hash, nowMs);
      return row !== undefined;
    });
  }

  putNode(r: NodeRecord): Promise<void> {
    return Promise.try(() => {
      this.#db
        .prepare(
          `INSERT INTO nodes (id, name, url, tier, pool, credential_hash, hardware_json, drained, joined_at_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET id = excluded.id, url = excluded.url, tier = excluded.tier,
             pool = excluded.pool, credential_hash = excluded.credential_hash,
             hardware_json = excluded.hardware_json, drained = excluded.drained, joined_at_ms = excluded.joined_at_ms`,
        )
        .run(r.id, r.name, r.url, r.tier, r.pool, r.credentialHash, r.hardwareJson, r.drained ? 1 : 0, r.joinedAtMs);
    });
  }

  listNodes(): Promise<NodeRecord[]> {
    return Promise.try(() => {
      const rows = this.#db.prepare("SELECT * FROM nodes ORDER BY name").all() as Array<{
        id: string;
        name: string;
        url: string;
        tier: number;
        pool: string;
        credential_hash: string;
        hardware_json: string | null;
        drained: number;
        joined_at_ms: number;
      }>;
      return rows.map((r) => ({
        id: r.id,
        name: r.name,
        url: r.url,
        tier: r.tier === 0 || r.tier === 2 ? r.tier : 1,
        pool: r.pool,
        credentialHash: r.credential_hash,
        hardwareJson: r.hardware_json,
        drained: r.drained === 1,
        joinedAtMs: r.joined_at_ms,
      }));
    });
  }

  setNodeDrained(name: string, drained: boolean): Promise<boolean> {
    return Promise.try(
      () => Number(this.#db.prepare("UPDATE nodes SET drained = ? WHERE name = ?").run(drained ? 1 : 0, name).changes) > 0,
    );
  }

  setNodeHardware(name: string, hardwareJson: string): Promise<void> {
    return Promise.try(() => {
      this.#db.prepare("UPDATE nodes SET hardware_json = ? WHERE name = ?").run(hardwareJson, name);
    });
  }

  setNodeUrl(name: string, url: string): Promise<void> {
    return Promise.try(() => {
      this.#db.prepare("UPDATE nodes SET url = ? WHERE name = ?").run(url, name);
    });
  }

  removeNode(name: string): Promise<boolean> {
    return Promise.try(() => Number(this.#db.prepare("DELETE FROM nodes WHERE name = ?").run(name).changes) > 0);
  }

  addStaticNode(r: StaticNodeRecord): Promise<boolean> {
    return Promise.try(() => {
      const inserted = this.#db
        .prepare(
          `INSERT INTO static_nodes (name, url, kind, tier, pool, models_json, weight, labels_json, api_key_env, drained, added_at_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
        )
        .run(
          r.name,
          r.url,
          r.kind,
          r.tier,
          r.pool,
          JSON.stringify(r.models),
          r.weight,
          JSON.stringify(r.labels),
          r.apiKeyEnv,
          r.drained ? 1 : 0,
          r.addedAtMs,
        );
      return Number(inserted.changes) === 1;
    });
  }

  listStaticNodes(): Promise<StaticNodeRecord[]> {
    return Promise.try(() => {
      const rows = this.#db.prepare("SELECT * FROM static_nodes ORDER BY name").all() as Array<{
        name: string;
        url: string;
        kind: string;
        tier: number;
        pool: string;
        models_json: string;
        weight: number;
        labels_json: string;
        api_key_env: string | null;
        drained: number;
        added_at_ms: number;
      }>;
      return rows.map((r) => ({
        name: r.name,
        url: r.url,
        kind: r.kind === "ollama" ? "ollama" : "openai",
        tier: r.tier === 0 || r.tier === 2 ? r.tier : 1,
        pool: r.pool,
        models: JSON.parse(r.models_json) as string[],
        weight: r.weight,
        labels: JSON.parse(r.labels_json) as Record<string, string>,
        apiKeyEnv: r.api_key_env,
        drained: r.drained === 1,
        addedAtMs: r.added_at_ms,
      }));
    });
  }

  setStaticNodeDrained(name: string, drained: boolean): Promise<boolean> {
    return Promise.try(
      () => Number(this.#db.prepare("UPDATE static_nodes SET drained = ? WHERE name = ?").run(drained ? 1 : 0, name).changes) > 0,
    );
  }

  removeStaticNode(name: string): Promise<boolean> {
    return Promise.try(() => Number(this.#db.prepare("DELETE FROM static_nodes WHERE name = ?").run(name).changes) > 0);
  }

  createConversation(id: string, nowMs: number): Promise<boolean> {
    return Promise.try(() => {
      const inserted = this.#db
        .prepare("INSERT INTO conversations (id, created_at_ms, updated_at_ms) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING")
        .run(id, nowMs, nowMs);
      return Number(inserted.changes) === 1;
    });
  }

  conversationTurns(id: string, limit: number): Promise<ChatTurn[] | null> {
    return Promise.try(() => {
      if (!this.#conversationExists(id)) return null;
      // The newest `limit` turns, put back in the order they were said.
      const rows = this.#db
        .prepare(
          `SELECT role, content FROM (
             SELECT seq, role, content FROM conversation_turns WHERE conversation_id = ? ORDER BY seq DESC LIMIT ?
           ) ORDER BY seq`,
        )
        .all(id, Math.max(0, Math.floor(limit))) as Array<{ role: string; content: string }>;
      return rows.map((r) => ({ role: r.role === "system" || r.role === "assistant" ? r.role : "user", content: r.content }));
    });
  }

  appendTurns(id: string, turns: readonly ChatTurn[], nowMs: number): Promise<boolean> {
    return Promise.try(() => {
      // IMMEDIATE takes the write lock first, so the next `seq` cannot be taken twice.
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        if (!this.#conversationExists(id)) {
          this.#db.exec("ROLLBACK");
          return false;
        }
        const last = this.#db.prepare("SELECT MAX(seq) AS seq FROM conversation_turns WHERE conversation_id = ?").get(id) as
          | { seq: number | null }
          | undefined;
        let seq = (last?.seq ?? -1) + 1;
        const insert = this.#db.prepare(
          "INSERT INTO conversation_turns (conversation_id, seq, role, content, created_at_ms) VALUES (?, ?, ?, ?, ?)",
        );
        for (const turn of turns) insert.run(id, seq++, turn.role, turn.content, nowMs);
        this.#db.prepare("UPDATE conversations SET updated_at_ms = ? WHERE id = ?").run(nowMs, id);
        this.#db.exec("COMMIT");
        return true;
      } catch (err) {
        if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
        throw err;
      }
    });
  }

  #conversationExists(id: string): boolean {
    return this.#db.prepare("SELECT 1 AS ok FROM conversations WHERE id = ?").get(id) !== undefined;
  }

  close(): Promise<void> {
    return Promise.try(() => this.#db.close());
  }
}
