import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { SqliteStore } from "./sqlite-store.ts";

test("API keys survive a restart of the store, and only their hashes are kept", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-store-"));
  try {
    const file = path.join(dir, "flotilla.db");
    const first = new SqliteStore(file);
    await first.addApiKey({ id: "k1", name: "laptop", prefix: "flt_abcd", createdAtMs: 1 }, "h1");
    await first.addApiKey({ id: "k2", name: "webui", prefix: "flt_efgh", createdAtMs: 2 }, "h2");
    await first.close();

    const second = new SqliteStore(file);
    assert.deepEqual((await second.listApiKeys()).map((k) => k.name), ["laptop", "webui"]);
    assert.deepEqual((await second.apiKeyHashes()).sort(), ["h1", "h2"]);
    assert.equal(await second.removeApiKey("k1"), true);
    assert.equal(await second.removeApiKey("k1"), false);
    assert.deepEqual(await second.apiKeyHashes(), ["h2"]);
    await second.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("two keys with the same hash are refused", async () => {
  const store = new SqliteStore(":memory:");
  await store.addApiKey({ id: "a", name: "a", prefix: "p", createdAtMs: 1 }, "same");
  await assert.rejects(store.addApiKey({ id: "b", name: "b", prefix: "p", createdAtMs: 1 }, "same"), /UNIQUE/);
  await store.close();
});

test("a join token is spent once per use, and never after it expires", async () => {
  const store = new SqliteStore(":memory:");
  await store.addJoinToken({ id: "t", expiresAtMs: 1_000, usesLeft: 2, createdAtMs: 0 }, "th");
  assert.equal(await store.joinTokenUsable("th", 5), true);
  assert.equal(await store.joinTokenUsable("th", 5), true, "looking does not spend it");
  assert.equal(await store.spendJoinToken("th", 10), true);
  assert.equal(await store.spendJoinToken("th", 20), true);
  assert.equal(await store.joinTokenUsable("th", 25), false);
  assert.equal(await store.spendJoinToken("th", 30), false, "both uses are gone");
  await store.addJoinToken({ id: "u", expiresAtMs: 1_000, usesLeft: 5, createdAtMs: 0 }, "uh");
  assert.equal(await store.joinTokenUsable("uh", 1_000), false, "expired at its expiry time");
  assert.equal(await store.spendJoinToken("uh", 1_000), false, "expired at its expiry time");
  assert.equal(await store.spendJoinToken("nope", 0), false);
  await store.close();
});

test("nodes are kept across restarts; a re-join under the same name replaces the record", async () => {
  const store = new SqliteStore(":memory:");
  const node = {
    id: "n1",
    name: "desk",
    url: "http://10.0.0.2:8081",
    tier: 0 as const,
    pool: "default",
    credentialHash: "c1",
    hardwareJson: null,
    drained: false,
    joinedAtMs: 5,
  };
  await store.putNode(node);
  await store.putNode({ ...node, id: "n2", credentialHash: "c2", url: "http://10.0.0.3:8081" });
  const nodes = await store.listNodes();
  assert.equal(nodes.length, 1);
  assert.equal(nodes[0]?.id, "n2");
  assert.equal(nodes[0]?.credentialHash, "c2");
  assert.equal(await store.setNodeDrained("desk", true), true);
  assert.equal((await store.listNodes())[0]?.drained, true);
  await store.setNodeUrl("desk", "http://10.0.0.9:8081");
  assert.equal((await store.listNodes())[0]?.url, "http://10.0.0.9:8081");
  assert.equal(await store.removeNode("desk"), true);
  assert.deepEqual(await store.listNodes(), []);
  await store.close();
});
