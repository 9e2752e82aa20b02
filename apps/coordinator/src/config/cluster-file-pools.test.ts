// The cluster file's pools, templates and roamer settings (issue 17).
import { test } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { clusterFile } from "./cluster-file.ts";

const SEED = `
pools:
  vision: { kinds: [image], templates: [sdxl-worker] }
  brain:
    kinds: [chat, completion, embedding]
    templates: [brain-llama]
    release_after: 90s
templates:
  sdxl-worker: { driver: container, capabilities: [chat], expected_start_s: 40 }
  brain-llama: { driver: llama, model: stories260K, capabilities: [chat], expected_start_s: 5 }
roamers:
  cooldownMs: 10000
`;

test("the seed's pools and templates load, with release_after in milliseconds and defaults filled in", () => {
  const file = clusterFile.parse(parse(SEED));
  assert.deepEqual(Object.keys(file.pools), ["vision", "brain"], "the file's order is kept: the first pool of a kind is its default");
  assert.equal(file.pools.brain?.release_after, 90_000);
  assert.equal(file.pools.vision?.release_after, 120_000);
  assert.equal(file.templates["brain-llama"]?.model, "stories260K");
  assert.deepEqual(file.templates["sdxl-worker"]?.env, {});
  assert.deepEqual(file.roamers, { autoscale: true, intervalMs: 2000, cooldownMs: 10_000, maxPerPool: 8 });
});

test("release_after takes a number of seconds too", () => {
  const file = clusterFile.parse(parse("pools: { brain: { kinds: [chat], release_after: 1.5 } }"));
  assert.equal(file.pools.brain?.release_after, 1500);
});

function issues(text: string): string[] {
  const result = clusterFile.safeParse(parse(text));
  assert.ok(!result.success, "the file should be refused");
  return result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
}

test("a pool naming a template that is not declared is refused, naming the entry", () => {
  const found = issues("pools: { brain: { kinds: [chat], templates: [nope] } }");
  assert.ok(found.some((line) => line.startsWith("pools.brain.templates.0:") && line.includes('"nope"')), found.join("; "));
});

test("the roamer pool cannot be declared: it is where idle roamers wait", () => {
  const found = issues("pools: { roamer: { kinds: [chat] } }");
  assert.ok(found.some((line) => line.startsWith("pools.roamer:")), found.join("; "));
});

test("a kind that is not one, split, a bad duration, an unknown driver and a misspelt key are each refused", () => {
  assert.ok(issues("pools: { brain: { kinds: [chats] } }").some((line) => line.startsWith("pools.brain.kinds.0")));
  assert.ok(issues("pools: { brain: { kinds: [split] } }").some((line) => line.startsWith("pools.brain.kinds.0")));
  assert.ok(issues("pools: { brain: { kinds: [chat], release_after: soon } }").some((line) => line.startsWith("pools.brain.release_after")));
  assert.ok(issues("templates: { t: { driver: shell } }").some((line) => line.startsWith("templates.t.driver")));
  assert.ok(issues("pools: { brain: { kinds: [chat], releaseAfter: 5 } }").some((line) => line.startsWith("pools.brain")));
  assert.ok(issues("pools: { Brain: { kinds: [chat] } }").some((line) => line.startsWith("pools")));
});
