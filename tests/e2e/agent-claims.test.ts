// What a joined node may claim: models outside the cluster file's
// allowModels are dropped and slot counts capped, at join and on every
// heartbeat, and status says why. The coordinator is real (in-process, over
// inject); the reports are what an agent sends, inflated.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { Agent, detectHardware } from "@flotilla/agent";
import { createCoordinator, DEFAULT_ALLOWED_NETWORKS, type Coordinator } from "@flotilla/coordinator";
import { PROTOCOL_VERSION, type AgentLoad, type JoinRequest, type JoinResponse, type PresentedNode, type ServedModel } from "@flotilla/protocol";
import { generateSecret } from "@flotilla/security";

const claimed = (id: string, total: number): ServedModel => ({
  id,
  contextSize: 4096,
  loadedAtMs: 0,
  slots: { total, busy: 0, queued: 0 },
  capabilities: ["chat"],
});

describe("what a joined node may claim", () => {
  let dataDir: string;
  let coordinator: Coordinator;
  let agentHost: Agent;
  let adminKey: string;
  let joinBody: (name: string, models: ServedModel[]) => JoinRequest;
  let loadWith: (models: ServedModel[]) => AgentLoad;

  const call = (method: "GET" | "POST", url: string, credential: string, body?: object) =>
    coordinator.app.inject({ method, url, headers: { authorization: `Bearer ${credential}` }, ...(body ? { payload: body } : {}) });
  const join = async (name: string, models: ServedModel[]): Promise<JoinResponse> => {
    const created = await call("POST", "/cluster/tokens", adminKey, { uses: 1, ttlMs: 600_000 });
    const res = await call("POST", "/cluster/join", created.json<{ token: string }>().token, joinBody(name, models));
    assert.equal(res.statusCode, 200, res.body);
    return res.json<JoinResponse>();
  };
  const node = async (name: string): Promise<PresentedNode> => (await call("GET", `/cluster/nodes/${name}`, adminKey)).json<PresentedNode>();

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "flotilla-claims-"));
    adminKey = generateSecret("admin");
    coordinator = await createCoordinator({
      dataDir,
      adminKeyFromEnv: adminKey,
      bodyLimitBytes: 1024 * 1024,
      heartbeatIntervalMs: 60_000,
      allowedNetworks: DEFAULT_ALLOWED_NETWORKS,
      agents: { allowModels: ["qwen-*"], maxSlotsPerModel: 16, nodes: [{ name: "special", allowModels: ["llama-8b"] }] },
      logger: pino({ level: "silent" }),
    });
    await coordinator.app.ready();
    agentHost = new Agent({ maxQueued: 1, maxWaitMs: 1_000 });
    const hardware = await detectHardware({ modelDir: dataDir });
    loadWith = (models) => ({ ...agentHost.load(), models });
    joinBody = (name, models) => ({
      protocolVersion: PROTOCOL_VERSION,
      name,
      tier: 1,
      pool: "default",
      agentUrl: "http://127.0.0.1:7201",
      hardware,
      load: loadWith(models),
    });
  });

  after(async () => {
    await agentHost.close();
    await coordinator.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test("at join: a disallowed model is dropped and a million slots are capped, and status says so", async () => {
    await join("greedy", [claimed("qwen-1.5b", 1_000_000), claimed("gpt-4o", 4)]);
    const shown = await node("greedy");
    assert.deepEqual(shown.models.map((m) => [m.id, m.slots.total]), [["qwen-1.5b", 16]]);
    assert.deepEqual(shown.limits, [
      "model qwen-1.5b: 1000000 slots reported, capped at 16 (agents.maxSlotsPerModel)",
      "model gpt-4o dropped: not in the cluster file's allowModels for this node",
    ]);
    const status = (await call("GET", "/cluster/status", adminKey)).json<{ nodes: PresentedNode[] }>();
    assert.deepEqual(status.nodes.find((n) => n.name === "greedy")?.limits?.length, 2);
  });

  test("on a heartbeat too; a node's own allowModels replaces the default", async () => {
    const joined = await join("special", [claimed("llama-8b", 2)]);
    assert.equal((await node("special")).limits, undefined, "a plausible, allowed report stands as sent");
    const beat = await call("POST", "/cluster/heartbeat", joined.nodeCredential, {
      protocolVersion: PROTOCOL_VERSION,
      agentUrl: "http://127.0.0.1:7201",
      load: loadWith([claimed("llama-8b", 500), claimed("qwen-1.5b", 1)]),
    });
    assert.equal(beat.statusCode, 200, beat.body);
    const shown = await node("special");
    assert.deepEqual(shown.models.map((m) => [m.id, m.slots.total]), [["llama-8b", 16]]);
    assert.equal(shown.limits?.length, 2);
  });
});
