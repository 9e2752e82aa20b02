// Which node takes which pool's work (issue 17): the rules of pool-book.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { clusterPool, clusterTemplate } from "../config/cluster-file-pools.ts";
import { testNode } from "../router/test-nodes.ts";
import { PoolBook } from "./pool-book.ts";

const book = () =>
  new PoolBook({
    pools: {
      brain: clusterPool.parse({ kinds: ["chat", "completion"], templates: ["brain-llama"] }),
      voice: clusterPool.parse({ kinds: ["speech", "transcription"] }),
      brain2: clusterPool.parse({ kinds: ["chat"] }),
    },
    templates: { "brain-llama": clusterTemplate.parse({ driver: "llama", model: "m" }) },
  });

test("work is held to its declared pool: a job's own, else the first declared pool of its kind", () => {
  const pools = book();
  assert.equal(pools.target(undefined, "chat"), "brain", "the first pool in the file that takes chat");
  assert.equal(pools.target("brain2", "chat"), "brain2");
  assert.equal(pools.target(undefined, "speech"), "voice");
  assert.equal(pools.target(undefined, "embedding"), undefined, "no pool declares embeddings: any node");
  assert.equal(pools.target("default", "chat"), undefined, "an undeclared pool holds nothing: such a job goes anywhere");
});

test("a node takes its own pool's work, and work held to no pool, but not another pool's", () => {
  const pools = book();
  const brainNode = testNode("b1", { pool: "brain" });
  const other = testNode("o1", { pool: "default" });
  assert.equal(pools.admits(brainNode, "brain"), true);
  assert.equal(pools.admits(brainNode, undefined), true);
  assert.equal(pools.admits(brainNode, "voice"), false);
  assert.equal(pools.admits(other, "brain"), false, "a dedicated pool's work stays in it");
  assert.equal(pools.admits(other, undefined), true);
});

test("a roamer takes nothing until it is lent, then only its pool's work, and nothing once back", () => {
  const pools = book();
  const roamer = testNode("r1", { pool: "roamer" });
  assert.equal(pools.admits(roamer, undefined), false, "an idle roamer sits clean");
  assert.equal(pools.admits(roamer, "brain"), false);
  const before = pools.version;
  pools.lend("r1", "brain");
  assert.notEqual(pools.version, before, "the router's pool snapshots are rebuilt");
  assert.equal(pools.admits(roamer, "brain"), true);
  assert.equal(pools.admits(roamer, "voice"), false);
  assert.equal(pools.effectivePool(roamer), "brain");
  const lent = pools.version;
  pools.lend("r1", "brain");
  assert.equal(pools.version, lent, "lending it again to the same pool changes nothing");
  pools.unlend("r1");
  assert.equal(pools.admits(roamer, "brain"), false);
  assert.equal(pools.effectivePool(roamer), null);
});
