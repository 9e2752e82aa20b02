// What every AgentlessNodeRecords promises (store/agentless-node-records.ts).
import assert from "node:assert/strict";
import type { AgentlessNodeRecord } from "../agentless-node-records.ts";
import type { FixtureTest } from "./fixture.ts";

export const ollamaBox: AgentlessNodeRecord = {
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

export function agentlessNodeRecordsConformance(test: FixtureTest): void {
  test("agentless nodes round-trip; a second with the same name is refused; drain and removal", async ({ store }) => {
    const records = store.agentlessNodes;
    assert.equal(await records.add(ollamaBox), true);
    assert.equal(await records.add({ ...ollamaBox, url: "http://10.0.0.1" }), false);
    assert.deepEqual(await records.list(), [ollamaBox]);
    assert.equal(await records.setDrained("ollama-box", true), true);
    assert.equal(await records.setDrained("nobody", true), false);
    assert.equal((await records.list())[0]?.drained, true);
    assert.equal(await records.remove("ollama-box"), true);
    assert.equal(await records.remove("ollama-box"), false);
    assert.deepEqual(await records.list(), []);
  });

  test("an agentless node without token, models or labels round-trips; the list is ordered by name", async ({ store }) => {
    const bare: AgentlessNodeRecord = { ...ollamaBox, name: "a-bare", kind: "openai", tier: 0, models: [], labels: {}, apiKeyEnv: null, weight: 1 };
    await store.agentlessNodes.add(ollamaBox);
    await store.agentlessNodes.add(bare);
    assert.deepEqual(await store.agentlessNodes.list(), [bare, ollamaBox]);
  });
}
