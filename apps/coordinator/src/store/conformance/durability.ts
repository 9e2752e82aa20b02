// What every store promises about its data as a whole: a restart keeps all
// of it, and a failed upgrade keeps it at the version it was.
import assert from "node:assert/strict";
import type { Store } from "../store.ts";
import type { FixtureTest } from "./fixture.ts";
import { ollamaBox } from "./agentless-node-records.ts";
import { deskNode } from "./node-records.ts";

const laptop = { id: "k1", name: "laptop", prefix: "flt_abcd", createdAtMs: 1 };

/** One record of every kind. */
async function fill(store: Store): Promise<void> {
  await store.apiKeys.add(laptop, "h1");
  await store.joinTokens.add({ id: "t", expiresAtMs: 1_000, usesLeft: 2, createdAtMs: 0 }, "th");
  assert.equal(await store.joinTokens.spend("th", 10), true);
  await store.nodes.put({ ...deskNode, drained: true, hardwareJson: '{"cpu":"arm"}' });
  await store.agentlessNodes.add(ollamaBox);
  await store.conversations.create("c", "o", 0);
  await store.conversations.append("c", "o", [{ role: "user", content: "hi" }, { role: "assistant", content: "hello" }], 1);
}

/** Checks that `store` holds exactly what fill() wrote. */
async function assertFilled(store: Store): Promise<void> {
  assert.deepEqual(await store.apiKeys.list(), [laptop]);
  assert.deepEqual(await store.apiKeys.hashes(), ["h1"]);
  assert.deepEqual(await store.nodes.list(), [{ ...deskNode, drained: true, hardwareJson: '{"cpu":"arm"}' }]);
  assert.deepEqual(await store.agentlessNodes.list(), [ollamaBox]);
  assert.deepEqual(await store.conversations.turns("c", "o", 10), [
    { role: "user", content: "hi" },
    { role: "assistant", content: "hello" },
  ]);
  // Last, since it spends: one of the token's two uses was spent before.
  assert.equal(await store.joinTokens.usable("th", 20), true);
  assert.equal(await store.joinTokens.spend("th", 20), true);
  assert.equal(await store.joinTokens.spend("th", 30), false);
}

export function durabilityConformance(test: FixtureTest): void {
  test("reopening the data keeps every kind of record", async (fixture) => {
    await fill(fixture.store);
    await assertFilled(await fixture.reopen());
  });

  test("reopening data of the current schema leaves its version as it was", async (fixture) => {
    const version = await fixture.schemaVersion();
    assert.ok(version > 0, "fresh data is migrated at open");
    await fixture.reopen();
    await fixture.reopen();
    assert.equal(await fixture.schemaVersion(), version);
  });

  test("a failing migration leaves the data at its old version, all of it still there", async (fixture) => {
    await fill(fixture.store);
    const version = await fixture.schemaVersion();
    await assert.rejects(fixture.migrateWithFailure());
    assert.equal(await fixture.schemaVersion(), version);
    await assertFilled(await fixture.reopen());
  });
}
