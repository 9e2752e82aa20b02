import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { SqliteStore } from "./sqlite-store.ts";
import type { StaticNodeRecord } from "./store.ts";

const record: StaticNodeRecord = {
  name: "ollama-box",
  url: "http://192.168.1.20:11434",
  kind: "ollama",
  tier: 2,
  pool: "brain",
  models: ["llama3", "qwen2.5:7b"],
  weight: 2.5,
  labels: { gpu: "rtx4090" },
  apiKeyEnv: "BOX_TOKEN",
  drained: false,
  addedAtMs: 42,
};

test("static nodes round-trip; a second with the same name is refused; drain and removal", async () => {
  const store = new SqliteStore(":memory:");
  assert.equal(await store.addStaticNode(record), true);
  assert.equal(await store.addStaticNode({ ...record, url: "http://10.0.0.1" }), false);
  assert.deepEqual(await store.listStaticNodes(), [record]);
  assert.equal(await store.setStaticNodeDrained("ollama-box", true), true);
  assert.equal(await store.setStaticNodeDrained("nobody", true), false);
  assert.equal((await store.listStaticNodes())[0]?.drained, true);
  assert.equal(await store.removeStaticNode("ollama-box"), true);
  assert.equal(await store.removeStaticNode("ollama-box"), false);
  assert.deepEqual(await store.listStaticNodes(), []);
  await store.close();
});

test("a schema-2 data directory gains the static_nodes table and keeps its data", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-store-"));
  try {
    const file = path.join(dir, "flotilla.db");
    const current = new SqliteStore(file);
    await current.addApiKey({ id: "k1", name: "laptop", prefix: "flt_abcd", createdAtMs: 1 }, "h1");
    await current.close();
    // What a flotilla before agentless nodes left behind (nor conversations, added later).
    const old = new DatabaseSync(file);
    old.exec("DROP TABLE static_nodes; DROP TABLE conversation_turns; DROP TABLE conversations; PRAGMA user_version = 2;");
    old.close();

    const upgraded = new SqliteStore(file);
    assert.deepEqual(await upgraded.apiKeyHashes(), ["h1"]);
    assert.equal(await upgraded.addStaticNode(record), true);
    await upgraded.close();
    const check = new DatabaseSync(file);
    assert.deepEqual({ ...check.prepare("PRAGMA user_version").get() }, { user_version: 4 });
    check.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
