// The SQLite store against the conformance suite (a fresh data directory per
// test), then what is SQLite's own: its constraint errors and that no call
// prepares a statement. Schema upgrades: sqlite/migrations.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { SqliteStore } from "./sqlite-store.ts";
import { storeConformance, type StoreFixture } from "./store-conformance.ts";
import { MIGRATIONS, SCHEMA_VERSION, migrate, schemaVersion } from "./sqlite/migrations.ts";

/** The next migration, were it to fail half-way: its table is made, then a statement fails. */
const failingMigration = {
  version: SCHEMA_VERSION + 1,
  sql: "CREATE TABLE half_done (x INTEGER); INSERT INTO half_done VALUES (1); INSERT INTO no_such_table VALUES (1);",
};

async function sqliteFixture(): Promise<StoreFixture> {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-store-"));
  const file = path.join(dir, "flotilla.db");
  let open: SqliteStore | null = new SqliteStore(file);
  const closeOpen = async (): Promise<void> => {
    const closing = open;
    open = null;
    await closing?.close();
  };
  return {
    store: open,
    async reopen() {
      await closeOpen();
      open = new SqliteStore(file);
      return open;
    },
    schemaVersion() {
      // A second connection reads it while the store's own is open (WAL).
      return Promise.try(() => {
        const db = new DatabaseSync(file, { readOnly: true });
        try {
          return schemaVersion(db);
        } finally {
          db.close();
        }
      });
    },
    async migrateWithFailure() {
      await closeOpen();
      const db = new DatabaseSync(file);
      try {
        migrate(db, [...MIGRATIONS, failingMigration]);
      } finally {
        db.close();
      }
    },
    async cleanup() {
      await closeOpen();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

storeConformance("SqliteStore", sqliteFixture);

test("SQLite refuses a second API key with the same hash by its UNIQUE constraint", async () => {
  const store = new SqliteStore(":memory:");
  await store.apiKeys.add({ id: "a", name: "a", prefix: "p", createdAtMs: 1 }, "same");
  await assert.rejects(store.apiKeys.add({ id: "b", name: "b", prefix: "p", createdAtMs: 1 }, "same"), /UNIQUE/);
  await store.close();
});

test("statements are prepared when the store opens, never per call", async (t) => {
  const store = new SqliteStore(":memory:");
  const prepare = t.mock.method(DatabaseSync.prototype, "prepare");
  await store.apiKeys.add({ id: "k", name: "laptop", prefix: "flt_abcd", createdAtMs: 1 }, "h");
  await store.apiKeys.list();
  await store.apiKeys.hashes();
  await store.apiKeys.remove("k");
  await store.joinTokens.add({ id: "t", expiresAtMs: 100, usesLeft: 1, createdAtMs: 0 }, "th");
  await store.joinTokens.usable("th", 1);
  await store.joinTokens.spend("th", 1);
  await store.nodes.put({ id: "n", name: "desk", url: "http://10.0.0.2:8081", tier: 1, pool: "default", credentialHash: "c", hardwareJson: null, drained: false, joinedAtMs: 0 });
  await store.nodes.setUrl("desk", "http://10.0.0.3:8081");
  await store.nodes.setHardware("desk", "{}");
  await store.nodes.setDrained("desk", true);
  await store.nodes.list();
  await store.nodes.remove("desk");
  await store.agentlessNodes.add({ name: "box", url: "http://10.0.0.4", kind: "openai", tier: 2, pool: "default", models: [], weight: 1, labels: {}, apiKeyEnv: null, drained: false, addedAtMs: 0 });
  await store.agentlessNodes.setDrained("box", true);
  await store.agentlessNodes.list();
  await store.agentlessNodes.remove("box");
  await store.conversations.create("c", "o", 0);
  await store.conversations.append("c", "o", [{ role: "user", content: "hi" }], 1);
  await store.conversations.turns("c", "o", 10);
  assert.equal(prepare.mock.callCount(), 0);
  prepare.mock.restore();
  await store.close();
});
