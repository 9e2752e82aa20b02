// Schema upgrades of the SQLite store: older data directories gain the new
// tables and keep their data, newer ones are refused, a failed migration is
// rolled back whole, and a current one opens unchanged.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { SqliteStore } from "../sqlite-store.ts";
import { MIGRATIONS, SCHEMA_VERSION, migrate, schemaVersion } from "./migrations.ts";

async function withDataDir(body: (file: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-migrations-"));
  try {
    await body(path.join(dir, "flotilla.db"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs `read` on a connection of its own, closed after. */
function inspect<T>(file: string, read: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(file);
  try {
    return read(db);
  } finally {
    db.close();
  }
}

const tables = (db: DatabaseSync): unknown[] => db.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY name").all();

const agentless = {
  name: "ollama-box",
  url: "http://192.168.1.20:11434",
  kind: "ollama" as const,
  tier: 2 as const,
  pool: "brain",
  models: ["llama3"],
  weight: 2.5,
  labels: {},
  apiKeyEnv: null,
  drained: false,
  addedAtMs: 42,
};

test("migrations are numbered 1, 2, 3... in order, and the schema version is the last", () => {
  assert.deepEqual(
    MIGRATIONS.map((m) => m.version),
    MIGRATIONS.map((_, i) => i + 1),
  );
  assert.equal(SCHEMA_VERSION, 6);
});

test("a schema-2 data directory gains the static_nodes table and keeps its data", () =>
  withDataDir(async (file) => {
    const current = new SqliteStore(file);
    await current.apiKeys.add({ id: "k1", name: "laptop", prefix: "flt_abcd", createdAtMs: 1 }, "h1");
    await current.close();
    // What a flotilla before agentless nodes left behind (nor conversations, added later).
    inspect(file, (db) => db.exec("DROP TABLE static_nodes; DROP TABLE conversation_turns; DROP TABLE conversations; ALTER TABLE nodes DROP COLUMN models_json; PRAGMA user_version = 2;"));

    const upgraded = new SqliteStore(file);
    assert.deepEqual(await upgraded.apiKeys.hashes(), ["h1"]);
    assert.equal(await upgraded.agentlessNodes.add(agentless), true);
    await upgraded.close();
    assert.deepEqual({ ...inspect(file, (db) => db.prepare("PRAGMA user_version").get()) }, { user_version: 6 });
  }));

test("a store written at schema 3 is upgraded with empty conversation tables, its other data kept", () =>
  withDataDir(async (file) => {
    const current = new SqliteStore(file);
    await current.apiKeys.add({ id: "k", name: "laptop", prefix: "flt_abcd", createdAtMs: 1 }, "h");
    await current.close();
    // What a schema-3 coordinator left behind: no conversation tables.
    inspect(file, (db) => db.exec("DROP TABLE conversation_turns; DROP TABLE conversations; ALTER TABLE nodes DROP COLUMN models_json; PRAGMA user_version = 3;"));

    const upgraded = new SqliteStore(file);
    assert.deepEqual((await upgraded.apiKeys.list()).map((k) => k.name), ["laptop"]);
    assert.equal(await upgraded.conversations.create("c", "o", 0), true);
    assert.equal(await upgraded.conversations.append("c", "o", [{ role: "user", content: "x" }], 1), true);
    await upgraded.close();
    assert.equal(inspect(file, schemaVersion), SCHEMA_VERSION);
  }));

test("conversations stored at schema 4 had no owner: they become open mode's, turns kept", () =>
  withDataDir(async (file) => {
    const current = new SqliteStore(file);
    await current.close();
    // What a schema-4 coordinator left behind: a conversation without an owner column.
    inspect(file, (db) =>
      db.exec(`
        DROP INDEX conversations_by_update;
        ALTER TABLE conversations DROP COLUMN owner;
        ALTER TABLE nodes DROP COLUMN models_json;
        INSERT INTO conversations (id, created_at_ms, updated_at_ms) VALUES ('c', 0, 1);
        INSERT INTO conversation_turns VALUES ('c', 0, 'user', 'before', 1);
        PRAGMA user_version = 4;`),
    );

    const upgraded = new SqliteStore(file);
    assert.deepEqual(await upgraded.conversations.turns("c", "open", 10), [{ role: "user", content: "before" }]);
    assert.equal(await upgraded.conversations.turns("c", "key:someone", 10), null, "no key can take it over");
    await upgraded.close();
    assert.equal(inspect(file, schemaVersion), SCHEMA_VERSION);
  }));

test("nodes stored at schema 5 gain an empty models column and keep their records", () =>
  withDataDir(async (file) => {
    const current = new SqliteStore(file);
    await current.nodes.put({ id: "n", name: "desk", url: "http://10.0.0.2:8081", tier: 0, pool: "default", credentialHash: "c", hardwareJson: null, drained: false, joinedAtMs: 1 });
    await current.close();
    inspect(file, (db) => db.exec("ALTER TABLE nodes DROP COLUMN models_json; PRAGMA user_version = 5;"));

    const upgraded = new SqliteStore(file);
    assert.deepEqual((await upgraded.nodes.list()).map((n) => n.name), ["desk"]);
    assert.deepEqual(await upgraded.nodes.lastModels(), new Map(), "no models known until the agent reports them");
    await upgraded.nodes.setModels("desk", "[]");
    assert.deepEqual(await upgraded.nodes.lastModels(), new Map([["desk", "[]"]]));
    await upgraded.close();
    assert.equal(inspect(file, schemaVersion), 6);
  }));

test("a data directory of the current schema opens unchanged", () =>
  withDataDir(async (file) => {
    const first = new SqliteStore(file);
    await first.apiKeys.add({ id: "k", name: "laptop", prefix: "flt_abcd", createdAtMs: 1 }, "h");
    await first.close();
    const before = inspect(file, (db) => ({ version: schemaVersion(db), tables: tables(db) }));
    await new SqliteStore(file).close();
    assert.deepEqual(
      inspect(file, (db) => ({ version: schemaVersion(db), tables: tables(db) })),
      before,
    );
  }));

test("a data directory written by a newer flotilla is refused, not misread", () =>
  withDataDir(async (file) => {
    inspect(file, (db) => db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`));
    assert.throws(() => new SqliteStore(file), /written by a newer flotilla \(schema 7\); upgrade flotilla/);
    assert.equal(inspect(file, schemaVersion), SCHEMA_VERSION + 1);
    await Promise.resolve();
  }));

test("a migration that fails half-way is rolled back whole, the earlier ones kept", () =>
  withDataDir(async (file) => {
    const failing = { version: 3, sql: "CREATE TABLE half_done (x INTEGER); INSERT INTO half_done VALUES (1); INSERT INTO no_such_table VALUES (1);" };
    const db = new DatabaseSync(file);
    try {
      assert.throws(
        () => migrate(db, [...MIGRATIONS.slice(0, 2), failing]),
        (err: unknown) => {
          assert.ok(err instanceof Error);
          assert.match(err.message, /^schema migration 3 failed and was rolled back, the data directory stays at schema 2: no such table: no_such_table/);
          return true;
        },
      );
      assert.equal(schemaVersion(db), 2, "migrations 1 and 2 committed before 3 failed");
      assert.equal(db.isTransaction, false);
      const names = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);
      assert.deepEqual(names, ["api_keys", "join_tokens", "nodes"], "nothing of migration 3 is left");
    } finally {
      db.close();
    }
    // The real migration 3 then runs over the same data.
    await new SqliteStore(file).close();
    assert.equal(inspect(file, schemaVersion), SCHEMA_VERSION);
  }));
