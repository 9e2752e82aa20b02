// The llama driver on the real test model in the real llama.cpp: the
// conformance suite, then what only a model in the agent shows (its load
// report, requests while it is removed).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { FlotillaError, type Workload } from "@flotilla/protocol";
import { testModelPath } from "@flotilla/testkit";
import { Agent } from "../agent.ts";
import { SharedLlamaRuntime } from "../backends/shared-llama-runtime.ts";
import { LlamaDriver } from "./llama-driver.ts";
import type { LlamaTemplate } from "./template-config.ts";
import { workloadDriverConformance } from "./workload-driver-conformance.ts";
import type { WorkloadLog } from "./workload-driver.ts";

const silent: WorkloadLog = { debug: () => {}, info: () => {}, warn: () => {} };
const MODEL = "roamer-tiny";
const cacheDir = await mkdtemp(path.join(tmpdir(), "flotilla-llama-driver-"));
const notAModel = path.join(cacheDir, "not-a-model.gguf");
await writeFile(notAModel, "this is not GGUF");
const modelPath = await testModelPath();
// One runtime for the file, as one agent has one: started by the first provision.
const llama = new SharedLlamaRuntime({ gpu: "off", threads: 1 });
const agent = new Agent({ maxQueued: 4, maxWaitMs: 10_000 });

after(async () => {
  await agent.close();
  await rm(cacheDir, { recursive: true, force: true });
});

function driverFor(template: Partial<LlamaTemplate> = {}, on: Agent = agent): LlamaDriver {
  return new LlamaDriver({
    name: "tiny-chat",
    template: { driver: "llama", model: MODEL, source: modelPath, slots: 2, contextSize: 256, ...template },
    agent: on,
    llama,
    defaults: { slots: 1, contextSize: 256 },
    models: { cacheDir, hfEndpoint: "http://127.0.0.1:9", hfToken: undefined },
    log: silent,
  });
}

workloadDriverConformance("llama", {
  working: () => ({ driver: driverFor(), running: () => agent.serves(MODEL) }),
  failing: () => ({ driver: driverFor({ source: notAModel }), running: () => agent.serves(MODEL) }),
});

const completion = (prompt: string, maxTokens: number): Workload => ({
  model: MODEL,
  input: { kind: "completion", prompt },
  params: { maxTokens, stop: [], temperature: 0 },
});

test("provisioned, the model is in the agent's load with the template's slots, and answers", async () => {
  const driver = driverFor();
  try {
    await driver.provision(new AbortController().signal, () => {});
    const listed = agent.load().models.find((m) => m.id === MODEL);
    assert.equal(listed?.slots.total, 2);
    assert.equal(listed?.contextSize, 256);
    const result = await agent.run(completion("Once upon a time", 8), { signal: new AbortController().signal, onChunk: () => {} });
    assert.equal(result.kind, "generation");
  } finally {
    await driver.stop();
  }
  assert.equal(agent.load().models.some((m) => m.id === MODEL), false, "stopped, it is no longer listed");
});

test("stopping refuses new requests at once with model_not_found, and lets the running one finish first", async () => {
  const driver = driverFor({ slots: 1 });
  await driver.provision(new AbortController().signal, () => {});
  const order: string[] = [];
  let stopping: Promise<void> | undefined;
  let refused: Promise<unknown> | undefined;
  const result = await agent.run(completion("Once upon a time", 64), {
    signal: new AbortController().signal,
    // Stopped while this generation runs: its first token is proof it was running.
    onChunk: () => {
      stopping ??= driver.stop().then(() => void order.push("stopped"));
      refused ??= agent.run(completion("again", 4), { signal: new AbortController().signal, onChunk: () => {} }).then(
        () => "served",
        (err: unknown) => err,
      );
    },
  });
  order.push("answered");
  assert.equal(result.kind, "generation");
  assert.ok(result.kind === "generation" && result.completionTokens > 1, "it ran to its end, not cut at the stop");
  assert.ok(stopping && refused, "the stop began during the generation");
  const refusal = await refused;
  assert.ok(refusal instanceof FlotillaError && refusal.code === "model_not_found", String(refusal));
  await stopping;
  assert.deepEqual(order, ["answered", "stopped"], "the model was unloaded after its running request, not under it");
  assert.equal(agent.serves(MODEL), false);
});

test("a model id the agent already serves fails the provisioning and unloads the copy", async () => {
  const first = driverFor();
  const second = driverFor();
  try {
    await first.provision(new AbortController().signal, () => {});
    await assert.rejects(second.provision(new AbortController().signal, () => {}), /two models are both named "roamer-tiny"/);
    assert.deepEqual(await first.health(), { ok: true });
    assert.equal((await second.health()).ok, false);
  } finally {
    await second.cleanup();
    await first.cleanup();
  }
});

test("an agent started with no model starts the shared runtime on first use, once", async () => {
  const own = new SharedLlamaRuntime({ gpu: "off", threads: 1 });
  const [a, b] = await Promise.all([own.get(), own.get()]);
  assert.equal(a, b);
  assert.equal(await own.get(), a);
});
