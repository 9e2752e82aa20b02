import { test } from "node:test";
import assert from "node:assert/strict";
import type { AgentLoad, HardwareInfo, ServedModel } from "@flotilla/protocol";
import { limitLoad, limitsFor, modelAllowed, slotCap } from "./load-limits.ts";

const hardware = (logicalCores: number): HardwareInfo => ({
  cpu: { model: "test cpu", physicalCores: logicalCores, logicalCores, flags: [] },
  memory: { totalBytes: 8 * 2 ** 30, availableBytes: 4 * 2 ** 30 },
  gpus: [],
  disk: { path: "/models", freeBytes: null },
  os: { platform: "linux", release: "6", arch: "x64", distro: null },
  jetson: null,
  hardwareType: "cpu",
});
const model = (id: string, total: number, busy = 0): ServedModel => ({
  id,
  contextSize: 4096,
  loadedAtMs: 0,
  slots: { total, busy, queued: 0 },
  capabilities: ["chat"],
});
const load = (...models: ServedModel[]): AgentLoad => ({ models, inFlight: 0, cpuPercent: 0, rssBytes: 0, memoryAvailableBytes: 0, agentVersion: "t" });
const noLimits = { allowModels: undefined, maxSlotsPerModel: undefined };

test("the slot cap is max(cores × 4, 64), at most 1024, unless configured", () => {
  assert.equal(slotCap(hardware(2), undefined), 64);
  assert.equal(slotCap(hardware(32), undefined), 128);
  assert.equal(slotCap(hardware(8192), undefined), 1024, "a claimed core count is the node's word too");
  assert.equal(slotCap(null, undefined), 64);
  assert.equal(slotCap(hardware(32), 8), 8);
});

test("a plausible report stands as sent", () => {
  const reported = load(model("m", 4, 1));
  assert.deepEqual(limitLoad(reported, hardware(2), noLimits), { load: reported, limits: [] });
});

test("a million slots are capped, and the cut is said", () => {
  const limited = limitLoad(load(model("m", 1_000_000, 100)), hardware(2), noLimits);
  assert.deepEqual(limited.load.models[0]?.slots, { total: 64, busy: 64, queued: 0 });
  assert.deepEqual(limited.limits, ["model m: 1000000 slots reported, capped at 64 (max(logical cores × 4, 64))"]);
  const configured = limitLoad(load(model("m", 9)), hardware(2), { allowModels: undefined, maxSlotsPerModel: 8 });
  assert.equal(configured.load.models[0]?.slots.total, 8);
  assert.match(configured.limits[0] ?? "", /capped at 8 \(agents.maxSlotsPerModel\)/);
});

test("models outside allowModels are dropped, with the reason", () => {
  const limited = limitLoad(load(model("qwen2.5-1.5b", 1), model("gpt-4o", 1)), hardware(2), {
    allowModels: ["qwen2.5-*"],
    maxSlotsPerModel: undefined,
  });
  assert.deepEqual(limited.load.models.map((m) => m.id), ["qwen2.5-1.5b"]);
  assert.deepEqual(limited.limits, ["model gpt-4o dropped: not in the cluster file's allowModels for this node"]);
});

test("allowModels patterns: exact ids, `*` for any run, nothing else special", () => {
  assert.ok(modelAllowed("a.b", ["a.b"]));
  assert.ok(!modelAllowed("axb", ["a.b"]), "a dot is a dot");
  assert.ok(modelAllowed("llama3.1:8b", ["llama*:8b"]));
  assert.ok(!modelAllowed("llama3.1:70b", ["llama*:8b"]));
  assert.ok(!modelAllowed("anything", []), "an empty list allows nothing");
  assert.ok(modelAllowed("anything", undefined), "no list allows everything");
});

test("an agent's own allowModels replaces the default; maxSlotsPerModel applies to all", () => {
  const policy = { allowModels: ["a"], maxSlotsPerModel: 4, nodes: [{ name: "desk", allowModels: ["b"] }] };
  assert.deepEqual(limitsFor(policy, "desk"), { allowModels: ["b"], maxSlotsPerModel: 4 });
  assert.deepEqual(limitsFor(policy, "other"), { allowModels: ["a"], maxSlotsPerModel: 4 });
  assert.deepEqual(limitsFor(undefined, "other"), noLimits);
});
