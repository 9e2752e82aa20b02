import { test } from "node:test";
import assert from "node:assert/strict";
import type { AgentLoad, ServedModel } from "@flotilla/protocol";
import { listedModels, modelsKey, parseStoredModels } from "./remembered-models.ts";

const model: ServedModel = { id: "m", contextSize: 2048, loadedAtMs: 1, slots: { total: 4, busy: 3, queued: 2 }, capabilities: ["chat"] };
const load: AgentLoad = { models: [{ ...model, id: "now" }], inFlight: 0, cpuPercent: 0, rssBytes: 0, memoryAvailableBytes: 0, agentVersion: "x" };

test("remembered models stand in, idle, until the grace period ends; a heartbeat's report wins", () => {
  const remembered = { models: [model], untilMs: 100 };
  assert.deepEqual(listedModels(null, remembered, 99), [{ ...model, slots: { total: 4, busy: 0, queued: 0 } }]);
  assert.deepEqual(listedModels(null, remembered, 100), [], "no longer expected once the grace period is over");
  assert.deepEqual(listedModels(load, remembered, 50), load.models);
  assert.deepEqual(listedModels(null, undefined, 0), []);
});

test("the key changes with the models, not with their load", () => {
  const busier = { ...model, slots: { ...model.slots, busy: 0 } };
  assert.equal(modelsKey([model]), modelsKey([busier]));
  assert.notEqual(modelsKey([model]), modelsKey([{ ...model, contextSize: 4096 }]));
  assert.notEqual(modelsKey([model]), modelsKey([]));
});

test("a stored row that does not parse is no models", () => {
  assert.deepEqual(parseStoredModels(JSON.stringify([model])), [model]);
  assert.deepEqual(parseStoredModels("not json"), []);
  assert.deepEqual(parseStoredModels('[{"id":""}]'), []);
});
