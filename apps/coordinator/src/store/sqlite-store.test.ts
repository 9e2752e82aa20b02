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
