// What every NodeRecords promises (store/node-records.ts).
import assert from "node:assert/strict";
import type { NodeRecord } from "../node-records.ts";
import type { FixtureTest } from "./fixture.ts";

export const deskNode: NodeRecord = {
  id: "n1",
  name: "desk",
  url: "http://10.0.0.2:8081",
  tier: 0,
  pool: "default",
  credentialHash: "c1",
  hardwareJson: null,
  drained: false,
  joinedAtMs: 5,
};

export function nodeRecordsConformance(test: FixtureTest): void {
  test("a node record comes back as stored; the list is ordered by name", async ({ store }) => {
    const attic: NodeRecord = { ...deskNode, id: "n2", name: "attic", tier: 2, pool: "brain", credentialHash: "c2", hardwareJson: '{"gpu":"x"}', drained: true };
    await store.nodes.put(deskNode);
    await store.nodes.put(attic);
    assert.deepEqual(await store.nodes.list(), [attic, deskNode]);
  });

  test("a re-join under the same name replaces the record; drain, move and removal", async ({ store }) => {
    await store.nodes.put(deskNode);
    await store.nodes.put({ ...deskNode, id: "n2", credentialHash: "c2", url: "http://10.0.0.3:8081" });
    const nodes = await store.nodes.list();
    assert.equal(nodes.length, 1);
    assert.equal(nodes[0]?.id, "n2");
    assert.equal(nodes[0]?.credentialHash, "c2");
    assert.equal(await store.nodes.setDrained("desk", true), true);
    assert.equal((await store.nodes.list())[0]?.drained, true);
    await store.nodes.setUrl("desk", "http://10.0.0.9:8081");
    assert.equal((await store.nodes.list())[0]?.url, "http://10.0.0.9:8081");
    await store.nodes.setHardware("desk", '{"cpu":"arm"}');
    assert.equal((await store.nodes.list())[0]?.hardwareJson, '{"cpu":"arm"}');
    assert.equal(await store.nodes.setDrained("desk", false), true);
    assert.equal((await store.nodes.list())[0]?.drained, false);
    assert.equal(await store.nodes.remove("desk"), true);
    assert.deepEqual(await store.nodes.list(), []);
  });

  test("changes to an unknown node store nothing", async ({ store }) => {
    await store.nodes.put(deskNode);
    assert.equal(await store.nodes.setDrained("nobody", true), false);
    await store.nodes.setUrl("nobody", "http://10.0.0.9:8081");
    await store.nodes.setHardware("nobody", "{}");
    assert.equal(await store.nodes.remove("nobody"), false);
    assert.deepEqual(await store.nodes.list(), [deskNode]);
  });

  test("the models a node last reported are kept, replaced, and removed with the node", async (fixture) => {
    const { store } = fixture;
    await store.nodes.put(deskNode);
    await store.nodes.put({ ...deskNode, id: "n2", name: "attic", credentialHash: "c2" });
    assert.deepEqual(await store.nodes.lastModels(), new Map(), "none reported yet");
    await store.nodes.setModels("desk", '[{"id":"a"}]');
    await store.nodes.setModels("desk", '[{"id":"b"}]');
    await store.nodes.setModels("nobody", '[{"id":"c"}]');
    const reopened = await fixture.reopen();
    assert.deepEqual(await reopened.nodes.lastModels(), new Map([["desk", '[{"id":"b"}]']]));
    assert.deepEqual(await reopened.nodes.list(), [{ ...deskNode, id: "n2", name: "attic", credentialHash: "c2" }, deskNode], "the records themselves are unchanged");
    await reopened.nodes.remove("desk");
    assert.deepEqual(await reopened.nodes.lastModels(), new Map());
  });

  test("a node of another name cannot take a stored node's credential hash", async ({ store }) => {
    await store.nodes.put(deskNode);
    await assert.rejects(store.nodes.put({ ...deskNode, id: "n2", name: "attic" }));
    assert.deepEqual(await store.nodes.list(), [deskNode]);
  });
}
