import { test } from "node:test";
import assert from "node:assert/strict";
import {
  apiKeyCreated,
  apiKeyList,
  clusterStatusResponse,
  drainResponse,
  joinTokenCreated,
  noContent,
  nodeStatus,
  nodeTestResult,
  presentedNode,
  routeExplanation,
} from "./cluster-api.ts";
import { formatParam } from "./openai.ts";

// What `GET /cluster/status` answered on a real `flotilla up` (no model),
// with a joined agent, an agentless server and a discovered agent added in
// the shapes their node classes build.
function realStatus() {
  const hardware = {
    cpu: { model: "AMD EPYC", physicalCores: 2, logicalCores: 2, flags: ["sse4_2", "avx", "avx2", "avx512f", "fma", "f16c"] },
    memory: { totalBytes: 25275990016, availableBytes: 24538267648 },
    gpus: [],
    disk: { path: "/tmp/tmp.KrbPFkRYDK/models", freeBytes: 83759890432 },
    os: { platform: "linux", release: "6.18.44-fc-v1045", arch: "x64", distro: "Debian GNU/Linux 12 (bookworm)" },
    jetson: null,
    hardwareType: "cpu",
  };
  const circuit = { state: "closed", consecutiveFailures: 0, ejectionLeftMs: 0, openings: 0, pausedByNode: false };
  return {
    nodes: [
      {
        name: "vm",
        kind: "local",
        health: "ready",
        drained: false,
        tier: 1,
        pool: "default",
        url: null,
        models: [],
        inFlight: 0,
        hardware,
        lastSeenAgoMs: null,
        latency: { firstTokenMs: null, totalMs: null, samples: 0 },
        state: "ready",
        circuit,
        dispatched: 0,
      },
      {
        name: "node-1",
        kind: "agent",
        health: "suspect",
        drained: true,
        tier: 2,
        pool: "gpu",
        url: "http://10.0.0.5:8081",
        models: [{ id: "qwen", contextSize: 4096, loadedAtMs: 1764633600000, slots: { total: 4, busy: 1, queued: 0 }, capabilities: ["chat"] }],
        inFlight: 1,
        hardware,
        lastSeenAgoMs: 5012,
        latency: { firstTokenMs: 41.7, totalMs: 310.2, samples: 12 },
        state: "suspect",
        circuit: { ...circuit, state: "open", consecutiveFailures: 3, ejectionLeftMs: 4200, openings: 1 },
        dispatched: 1,
      },
      {
        name: "10.0.0.9-11434",
        kind: "ollama",
        health: "down",
        drained: false,
        tier: 0,
        pool: "default",
        url: "http://10.0.0.9:11434",
        models: [],
        inFlight: 0,
        hardware: null,
        lastSeenAgoMs: null,
        latency: { firstTokenMs: null, totalMs: null, samples: 0, probeMs: 3.2 },
        weight: 2,
        labels: { room: "lab" },
        error: "connect ECONNREFUSED 10.0.0.9:11434",
        state: "down",
        circuit,
        dispatched: 0,
      },
    ],
    totals: { nodes: 3, ready: 1, slots: 4, inFlight: 1 },
    queue: { depth: 0, maxDepth: 64, maxWaitMs: 30000 },
    discovered: [{ name: "spare", addresses: ["10.0.0.7"], port: 8081, protocolVersion: "1", lastSeenAgoMs: 900 }],
  };
}

/** The fixture's node i, asserted present (noUncheckedIndexedAccess). */
function nodeAt(i: number) {
  const node = realStatus().nodes[i];
  assert.ok(node);
  return node;
}

/** The path of the first problem, as the CLI names it. */
function refusedAt(result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }): string | undefined {
  assert.equal(result.success, false, "should be refused");
  return formatParam(result.error?.issues[0]?.path ?? []);
}

test("a real /cluster/status answer is accepted, nothing in it lost", () => {
  const body = realStatus();
  const parsed = clusterStatusResponse.parse(body);
  assert.deepEqual(parsed, body);
});

test("a wrong field in /cluster/status is refused with its path", () => {
  const sick = { ...realStatus(), nodes: [nodeAt(0), { ...nodeAt(1), health: "sick" }] };
  assert.equal(refusedAt(clusterStatusResponse.safeParse(sick)), "nodes[1].health");

  const { slots: _slots, ...totals } = realStatus().totals;
  assert.equal(refusedAt(clusterStatusResponse.safeParse({ ...realStatus(), totals })), "totals.slots");

  const { state: _state, ...stateless } = nodeAt(0);
  assert.equal(refusedAt(clusterStatusResponse.safeParse({ ...realStatus(), nodes: [stateless] })), "nodes[0].state");

  assert.equal(refusedAt(clusterStatusResponse.safeParse("<html>502 Bad Gateway</html>")), "");
});

test("served models keep the agent protocol's rules: a model from an agent without capabilities serves chat", () => {
  const node = nodeAt(1);
  const model = { id: "qwen", contextSize: 4096, loadedAtMs: 0, slots: { total: 1, busy: 0, queued: 0 } };
  assert.deepEqual(presentedNode.parse({ ...node, models: [model] }).models[0]?.capabilities, ["chat"]);
  assert.equal(refusedAt(presentedNode.safeParse({ ...node, models: [{ ...model, slots: { total: -1, busy: 0, queued: 0 } }] })), "models[0].slots.total");
});

test("a field a newer coordinator adds is dropped, not refused", () => {
  const body = { ...realStatus(), version: "0.2.0" };
  assert.equal("version" in clusterStatusResponse.parse(body), false);
});

test("a node's status alone: what InferenceNode.status() returns, without the presentation", () => {
  const { state: _state, circuit: _circuit, dispatched: _dispatched, ...status } = nodeAt(0);
  assert.deepEqual(nodeStatus.parse(status), status);
  assert.equal(refusedAt(nodeStatus.safeParse({ ...status, tier: 3 })), "tier");
  assert.equal(refusedAt(nodeStatus.safeParse({ ...status, name: "has space" })), "name");
});

test("node test result: null first token accepted, a string duration refused", () => {
  const result = { node: "node-0", model: "stories", firstTokenMs: null, totalMs: 120.4, completionTokens: 16, tokensPerSecond: 130.2 };
  assert.deepEqual(nodeTestResult.parse(result), result);
  assert.equal(refusedAt(nodeTestResult.safeParse({ ...result, totalMs: "120" })), "totalMs");
});

test("route explanation: a decision, a refusal, and candidates with more detail than the schema names", () => {
  // What POST /cluster/route answered on the same real `flotilla up`, where nothing serves 'auto'.
  const refused = {
    class: "SIMPLE",
    tier: null,
    node: null,
    model: null,
    reason: "SIMPLE (score 0 (a short ask with no task cues)); model 'auto'; needs 16 tokens; tiers 0, 1, 2; tier 0: no ready node",
    affinity: false,
    promptTokens: 0,
    candidates: [{ node: "vm", tier: 1, score: 0, reason: "skipped: does not serve 'auto'" }],
  };
  assert.deepEqual(routeExplanation.parse(refused), refused);
  const chosen = { ...refused, class: "COMPLEX", tier: 1, node: "node-0", model: "stories", candidates: [{ node: "node-0", tier: 1, model: "stories", score: 1, reason: "tier 1" }] };
  assert.equal(routeExplanation.parse(chosen).candidates[0]?.node, "node-0");
  assert.equal(refusedAt(routeExplanation.safeParse({ ...refused, class: "HARD" })), "class");
  assert.equal(refusedAt(routeExplanation.safeParse({ ...refused, candidates: [{ node: "vm", tier: 7, score: 0, reason: "" }] })), "candidates[0].tier");
});

test("route explanation: the codes ride along, read loosely, and an answer without them still parses", () => {
  const coded = {
    kind: "unavailable",
    unavailable: "no-healthy-node",
    class: "SIMPLE",
    tier: null,
    node: null,
    model: null,
    reason: "SIMPLE (test); model 'auto'; needs 16 tokens; tiers 0, 1, 2; tier 0: no ready node",
    steps: [{ code: "classified", class: "SIMPLE", by: "test" }, { code: "tier-empty", tier: 0, because: "no-ready-node" }, { code: "a-code-from-later" }],
    affinity: false,
    promptTokens: 0,
    candidates: [{ node: "vm", tier: 1, score: 0, reason: "skipped: down", verdict: "skipped", because: { code: "down" } }],
  };
  assert.deepEqual(routeExplanation.parse(coded), coded, "steps keep their numbers and names; a code this reader does not know is kept");
  assert.equal(refusedAt(routeExplanation.safeParse({ ...coded, kind: "maybe" })), "kind");
  assert.equal(refusedAt(routeExplanation.safeParse({ ...coded, steps: [{ tier: 0 }] })), "steps[0].code");
});

test("keys, tokens, drain and the empty answers", () => {
  const key = { id: "b3c5e524-5d2a-4917-9a1c-fc91ff0f1585", name: "t", prefix: "flt_b16F", createdAtMs: 1764633702444 };
  assert.deepEqual(apiKeyList.parse({ keys: [key] }), { keys: [key] });
  assert.deepEqual(apiKeyCreated.parse({ ...key, key: "flt_b16FbSVRwJM6hEWzAlETkgJDemrRP9pwq6sfZoylh38" }).id, key.id);
  assert.equal(refusedAt(apiKeyCreated.safeParse(key)), "key");
  assert.equal(refusedAt(apiKeyList.safeParse({ keys: [{ ...key, createdAtMs: "yesterday" }] })), "keys[0].createdAtMs");

  const token = { token: "flt_join_RFLyGxzsonxvLAkkI4C_C7s77jdgEoij1HyvV4wkzTY", expiresAtMs: 1764634602823, uses: 1 };
  assert.deepEqual(joinTokenCreated.parse(token), token);
  assert.equal(refusedAt(joinTokenCreated.safeParse({ ...token, token: undefined })), "token");

  assert.deepEqual(drainResponse.parse({ name: "node-0", drained: true }), { name: "node-0", drained: true });
  assert.equal(refusedAt(drainResponse.safeParse({ name: "node-0" })), "drained");

  assert.equal(noContent.parse(undefined), undefined);
  assert.equal(refusedAt(noContent.safeParse({ removed: true })), "");
});
