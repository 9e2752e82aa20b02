// The store's conversations (/cluster/execute): turns kept in order, the
// newest `limit` returned oldest first, appends all-or-nothing, and a data
// directory written at schema 3 gains the tables on upgrade.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { SqliteStore } from "./sqlite-store.ts";

test("turns are appended in order and survive a restart of the store", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-conv-"));
  try {
    const file = path.join(dir, "flotilla.db");
    const first = new SqliteStore(file);
    assert.equal(await first.createConversation("c1", 10), true);
    assert.deepEqual(await first.conversationTurns("c1", 50), [], "a new conversation has no turns");
    assert.equal(
      await first.appendTurns("c1", [{ role: "user", content: "hi" }, { role: "assistant", content: "hello" }], 11),
      true,
    );
    // Same millisecond: order still comes from the append, not the clock.
    assert.equal(await first.appendTurns("c1", [{ role: "user", content: "again" }, { role: "assistant", content: "yes" }], 11), true);
    await first.close();

    const second = new SqliteStore(file);
    assert.deepEqual(await second.conversationTurns("c1", 50), [
      { role: "user", content: "hi" },
      { role: "assistant", content: "hello" },
      { role: "user", content: "again" },
      { role: "assistant", content: "yes" },
    ]);
    await second.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a limit keeps the newest turns, oldest first", async () => {
  const store = new SqliteStore(":memory:");
  await store.createConversation("c", 0);
  for (let i = 0; i < 5; i++) await store.appendTurns("c", [{ role: "user", content: `q${i}` }, { role: "assistant", content: `a${i}` }], i);
  assert.deepEqual(
    (await store.conversationTurns("c", 3))?.map((t) => t.content),
    ["a3", "q4", "a4"],
  );
  assert.deepEqual(await store.conversationTurns("c", 0), []);
  await store.close();
});

test("conversations are separate; an unknown id is null and cannot be appended to", async () => {
  const store = new SqliteStore(":memory:");
  await store.createConversation("a", 0);
  await store.createConversation("b", 0);
  await store.appendTurns("a", [{ role: "user", content: "for a" }], 1);
  assert.deepEqual(await store.conversationTurns("b", 10), []);
  assert.equal(await store.conversationTurns("nope", 10), null);
  assert.equal(await store.appendTurns("nope", [{ role: "user", content: "x" }], 1), false);
  assert.equal(await store.conversationTurns("nope", 10), null, "a refused append creates nothing");
  assert.equal(await store.createConversation("a", 2), false, "an id is taken once");
  assert.deepEqual((await store.conversationTurns("a", 10))?.map((t) => t.content), ["for a"], "and keeps its turns");
  await store.close();
});

test("a store written at schema 3 is upgraded with empty conversation tables, its other data kept", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-conv-"));
  try {
    const file = path.join(dir, "flotilla.db");
    const current = new SqliteStore(file);
    await current.addApiKey({ id: "k", name: "laptop", prefix: "flt_abcd", createdAtMs: 1 }, "h");
    await current.close();
    // What a schema-3 coordinator left behind: no conversation tables.
    const raw = new DatabaseSync(file);
    raw.exec("DROP TABLE conversation_turns; DROP TABLE conversations; PRAGMA user_version = 3;");
    raw.close();

    const upgraded = new SqliteStore(file);
    assert.deepEqual((await upgraded.listApiKeys()).map((k) => k.name), ["laptop"]);
    assert.equal(await upgraded.createConversation("c", 0), true);
    assert.equal(await upgraded.appendTurns("c", [{ role: "user", content: "x" }], 1), true);
    await upgraded.close();
    const version = new DatabaseSync(file);
    assert.equal((version.prepare("PRAGMA user_version").get() as { user_version: number }).user_version, 4);
    version.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
