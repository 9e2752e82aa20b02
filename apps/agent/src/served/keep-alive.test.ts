// On-demand load and idle unload (issue 17), on the real test model in the
// real llama.cpp: the agent's clock and free memory are the test's, and its
// idle check is called directly instead of waiting for its timer.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import type { Workload } from "@flotilla/protocol";
import { testModelPath } from "@flotilla/testkit";
import { Agent } from "../agent.ts";
import { loadLlamaModel, startLlamaRuntime } from "../backends/llama-cpp.ts";

const modelPath = await testModelPath();
const llama = await startLlamaRuntime({ gpu: "off", threads: 1 });
let now = 1_000_000;
const PLENTY = 64 * 2 ** 30;
let freeBytes: () => number = () => PLENTY;
const agents: Agent[] = [];
after(async () => {
  for (const agent of agents) await agent.close();
});

function newAgent(): Agent {
  const agent = new Agent({ maxQueued: 4, maxWaitMs: 10_000 }, { nowMs: () => now, freeMemoryBytes: () => freeBytes(), idleCheckMs: 3_600_000 });
  agents.push(agent);
  return agent;
}

let loads = 0;
/** Models unloaded so far, by any path: what frees memory in the last test. */
let disposals = 0;
async function serve(agent: Agent, id: string, keepAliveMs: number): Promise<void> {
  const load = async () => {
    loads += 1;
    const backend = await loadLlamaModel(llama, { modelId: id, path: modelPath, parallelSequences: 1, contextSize: 256, threads: 1 });
    const dispose = backend.dispose.bind(backend);
    backend.dispose = () => {
      disposals += 1;
      return dispose();
    };
    return backend;
  };
  agent.addBackend(await load(), now, { keepAliveMs, load });
}

const ask = (model: string, maxTokens = 4): Workload => ({
  model,
  input: { kind: "completion", prompt: "Once upon a time" },
  params: { maxTokens, temperature: 0, topP: undefined, seed: 1, stop: [], presencePenalty: undefined, frequencyPenalty: undefined },
});
const signal = () => new AbortController().signal;
const stateOf = (agent: Agent, id: string) => agent.load().models.find((m) => m.id === id)?.state ?? "loaded";

/** Waits for the model to be loaded again: the agent's change listener is the event. */
function reloaded(agent: Agent, id: string): Promise<void> {
  return new Promise((resolve) => agent.onModelsChanged(() => stateOf(agent, id) === "loaded" && resolve()));
}

test("a model idle for its keep-alive is unloaded, stays listed, and is loaded again when a request asks for it", async () => {
  const agent = newAgent();
  await serve(agent, "tiny", 60_000);
  now += 59_999;
  assert.deepEqual(await agent.unloadIdle(), [], "not yet idle for its keep-alive");
  now += 1;
  assert.deepEqual(await agent.unloadIdle(), ["tiny"]);
  const listed = agent.load().models.find((m) => m.id === "tiny");
  assert.equal(listed?.state, "unloaded", "still listed, so the coordinator knows the node has it");
  assert.equal(listed?.contextSize, 256);

  const loadsBefore = loads;
  // Two at once: both wait for one load, as requests wait for a slot.
  const answers = await Promise.all([agent.run(ask("tiny"), { signal: signal() }), agent.run(ask("tiny"), { signal: signal() })]);
  assert.deepEqual(answers.map((a) => a.kind), ["generation", "generation"]);
  assert.equal(loads, loadsBefore + 1, "loaded once");
  assert.equal(stateOf(agent, "tiny"), "loaded");
});

test("a model with a request in flight is never unloaded, however long it has been since it was loaded", async () => {
  const agent = newAgent();
  await serve(agent, "busy", 1_000);
  const controller = new AbortController();
  const running = agent.run(ask("busy", 200), { signal: controller.signal, onChunk: () => {} });
  now += 10_000;
  assert.deepEqual(await agent.unloadIdle(), []);
  assert.equal(stateOf(agent, "busy"), "loaded");
  await running;
  now += 1_000;
  assert.deepEqual(await agent.unloadIdle(), ["busy"], "idle once its request ended, for its keep-alive");
});

test("when memory is short, loading a model first unloads the least recently used idle one", async () => {
  const agent = newAgent();
  await serve(agent, "older", 3_600_000);
  now += 1;
  await serve(agent, "newer", 3_600_000);
  now += 1;
  await agent.run(ask("newer"), { signal: signal() });
  // Unload "third" by its keep-alive, then ask for it with no memory to spare.
  await serve(agent, "third", 1);
  now += 10;
  assert.deepEqual(await agent.unloadIdle(), ["third"]);
  // Short until one more model is unloaded.
  const before = disposals;
  freeBytes = () => (disposals > before ? PLENTY : 0);
  const back = reloaded(agent, "third");
  assert.equal(agent.loadModel("third"), true);
  await back;
  freeBytes = () => PLENTY;
  assert.equal(stateOf(agent, "older"), "unloaded", "the least recently used went first");
  assert.equal(stateOf(agent, "newer"), "loaded", "and that was room enough: the one used since stays");
  assert.equal(stateOf(agent, "third"), "loaded");
  assert.equal(agent.loadModel("third"), false, "a loaded model is not loaded again");
});
