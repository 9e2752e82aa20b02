// A coordinator and three agents as separate OS processes on loopback, each
// agent serving the real test model: joining, heartbeats, failure and
// recovery, drain, and the refusals that keep the cluster closed.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { once } from "node:events";
import { tmpdir } from "node:os";
import path from "node:path";
import OpenAI from "openai";
import { fetchClusterStatus, freePort, runCli, testAdminKey, startFlotilla, testModelPath, TEST_MODEL_ID, waitForClusterStatus, type FlotillaProcess } from "@flotilla/testkit";

const BEAT_MS = 250;

interface StatusNode {
  name: string;
  state: string;
  url: string | null;
  inFlight: number;
  hardware: { hardwareType: string; cpu: { logicalCores: number }; memory: { totalBytes: number } } | null;
  models: Array<{ id: string }>;
  latency: { firstTokenMs: number | null; totalMs: number | null; samples: number };
}

async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

describe("a coordinator and three agents", () => {
  let port: number;
  let coordinatorDir: string;
  let coordinator: FlotillaProcess;
  let adminEnv: Record<string, string>;
  const agentDirs: string[] = [];
  const agents: FlotillaProcess[] = [];
  let model: string;

  const startCoordinator = () =>
    startFlotilla({
      command: "coordinator",
      port,
      dataDir: coordinatorDir,
      env: adminEnv,
      args: ["--heartbeat-interval-ms", String(BEAT_MS)],
    });
  const startAgent = (i: number, token?: string) =>
    startFlotilla({
      command: "agent",
      dataDir: agentDirs[i],
      args: [
        "--join",
        coordinator.url,
        ...(token ? ["--token", token] : []),
        "--name",
        `node-${i}`,
        "--model",
        model,
        "--slots",
        "2",
        "--heartbeat-interval-ms",
        String(BEAT_MS),
      ],
    });
  const status = async (): Promise<StatusNode[]> => {
    const res = await runCli(["cluster", "status", "--json"], adminEnv);
    assert.equal(res.code, 0, res.stderr);
    return (JSON.parse(res.stdout) as { nodes: StatusNode[] }).nodes;
  };
  // Polling goes straight to the API: a CLI run takes longer than the
  // suspect window lasts at this heartbeat interval.
  const apiStatus = async (): Promise<StatusNode[]> =>
    (await fetchClusterStatus(coordinator.url, adminEnv.FLOTILLA_ADMIN_KEY ?? "")).nodes;
  const waitFor = async (what: string, check: (nodes: StatusNode[]) => boolean, timeoutMs = 10_000) =>
    (await waitForClusterStatus(coordinator.url, adminEnv.FLOTILLA_ADMIN_KEY ?? "", what, (s) => check(s.nodes), timeoutMs)).nodes;
  const stateOf = (nodes: StatusNode[], name: string) => nodes.find((n) => n.name === name)?.state;

  before(async () => {
    model = await testModelPath();
    port = await freePort();
    coordinatorDir = await tempDir("flotilla-coord-");
    adminEnv = { FLOTILLA_ADMIN_KEY: testAdminKey(`cluster_test_${port}`), FLOTILLA_URL: `http://127.0.0.1:${port}` };
    coordinator = await startCoordinator();
    const token = await runCli(["token", "create", "--uses", "3", "--ttl", "5m"], adminEnv);
    assert.equal(token.code, 0, token.stderr);
    for (let i = 0; i < 3; i++) agentDirs.push(await tempDir(`flotilla-agent-${i}-`));
    agents.push(...(await Promise.all([0, 1, 2].map((i) => startAgent(i, token.stdout.trim())))));
  });
  after(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await coordinator.stop();
    await Promise.all([coordinatorDir, ...agentDirs].map((d) => rm(d, { recursive: true, force: true })));
  });

  test("cluster status shows all three ready, with their detected hardware and model", async () => {
    await waitFor("three ready nodes", (n) => n.filter((x) => x.state === "ready").length === 3);
    const nodes = await status();
    for (const node of nodes) {
      assert.equal(node.hardware?.hardwareType, "cpu");
      assert.ok((node.hardware?.cpu.logicalCores ?? 0) > 0);
      assert.ok((node.hardware?.memory.totalBytes ?? 0) > 0);
      assert.deepEqual(node.models.map((m) => m.id), [TEST_MODEL_ID]);
    }
    const table = await runCli(["cluster", "status"], adminEnv);
    assert.match(table.stdout, /NAME\s+TIER\s+POOL\s+HARDWARE/);
    assert.match(table.stdout, /3\/3 nodes ready/);
  });

  test("an OpenAI client talks to the coordinator and the agents answer", async () => {
    const client = new OpenAI({ baseURL: `${coordinator.url}/v1`, apiKey: "x", maxRetries: 0 });
    const answers = await Promise.all(
      [1, 2, 3, 4].map((seed) =>
        client.chat.completions.create({ model: TEST_MODEL_ID, messages: [{ role: "user", content: "Hi" }], max_tokens: 6, seed }),
      ),
    );
    for (const a of answers) assert.equal(a.usage?.completion_tokens, 6);
    let streamed = "";
    for await (const chunk of await client.completions.create({ model: TEST_MODEL_ID, prompt: "Once", max_tokens: 12, stream: true, seed: 9 })) {
      streamed += chunk.choices[0]?.text ?? "";
    }
    const whole = await client.completions.create({ model: TEST_MODEL_ID, prompt: "Once", max_tokens: 12, seed: 9 });
    assert.equal(streamed, whole.choices[0]?.text);
    // The coordinator timed those requests on the nodes that answered them.
    const measured = (await apiStatus()).filter((n) => n.latency.samples > 0);
    assert.ok(measured.length > 0, "some node has latency samples");
    for (const { latency } of measured) {
      assert.ok(latency.totalMs !== null && latency.totalMs > 0, JSON.stringify(latency));
      assert.ok(latency.firstTokenMs !== null && latency.firstTokenMs <= latency.totalMs, JSON.stringify(latency));
    }
  });

  test("every answer says which node, tier and reason served it; sessions stay on their node", async () => {
    const chat = (headers: Record<string, string>) =>
      fetch(`${coordinator.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ model: TEST_MODEL_ID, messages: [{ role: "user", content: "what's 2+2?" }], max_tokens: 2 }),
      });
    const plain = await chat({});
    assert.equal(plain.status, 200);
    assert.match(plain.headers.get("x-flotilla-node") ?? "", /^node-[012]$/);
    assert.equal(plain.headers.get("x-flotilla-tier"), "1");
    assert.match(plain.headers.get("x-flotilla-route") ?? "", /^SIMPLE: /);

    // Every agent here is tier 1: forcing tier 0 fails without fallback and is served with it.
    const strict = await chat({ "x-flotilla-tier": "0", "x-flotilla-tier-fallback": "false" });
    assert.equal(strict.status, 503);
    assert.equal(((await strict.json()) as { error: { code: string } }).error.code, "no_backend");
    const lenient = await chat({ "x-flotilla-tier": "0" });
    assert.equal(lenient.status, 200);
    assert.equal((await chat({ "x-flotilla-tier": "7" })).status, 400);

    const served = new Set<string>();
    for (let i = 0; i < 4; i++) served.add((await chat({ "x-flotilla-session": "conversation-42" })).headers.get("x-flotilla-node") ?? "");
    assert.equal(served.size, 1, `one conversation, one node: ${[...served].join(", ")}`);

    const explained = await fetch(`${coordinator.url}/cluster/route`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${adminEnv.FLOTILLA_ADMIN_KEY}` },
      body: JSON.stringify({ model: TEST_MODEL_ID, messages: [{ role: "user", content: "Compare these ten papers in depth and write a detailed report." }] }),
    });
    assert.equal(explained.status, 200);
    const decision = (await explained.json()) as { class: string; tier: number; node: string; candidates: Array<{ node: string; reason: string }> };
    assert.equal(decision.class, "COMPLEX");
    assert.equal(decision.tier, 1, "no tier-2 node: COMPLEX falls back to tier 1");
    assert.deepEqual(decision.candidates.map((c) => c.node).sort(), ["node-0", "node-1", "node-2"]);
  });

  test("cluster test runs a tiny completion on every node and reports its speed", async () => {
    const res = await runCli(["cluster", "test", "--json"], adminEnv);
    assert.equal(res.code, 0, res.stderr);
    const rows = JSON.parse(res.stdout) as Array<{ node: string; ok: boolean; model: string; completionTokens: number; tokensPerSecond: number }>;
    assert.deepEqual(rows.map((r) => r.node).sort(), ["node-0", "node-1", "node-2"]);
    for (const row of rows) {
      assert.equal(row.ok, true);
      assert.equal(row.model, TEST_MODEL_ID);
      assert.equal(row.completionTokens, 16);
      assert.ok(row.tokensPerSecond > 0);
    }
    const bad = await fetch(`${coordinator.url}/cluster/nodes/node-0/test`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${adminEnv.FLOTILLA_ADMIN_KEY}` },
      body: JSON.stringify({ maxTokens: 0 }),
    });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { param: string } }).error.param, "maxTokens");
    const text = await runCli(["cluster", "test"], adminEnv);
    assert.match(text.stdout, /NAME\s+STATE\s+MODEL\s+FIRST TOKEN\s+TOTAL\s+TOKENS\s+TOKENS\/S/);
  });

  test("drain stops new work to a node; undrain brings it back", async () => {
    const drained = await runCli(["cluster", "drain", "node-0"], adminEnv);
    assert.equal(drained.code, 0, drained.stderr);
    assert.equal(stateOf(await status(), "node-0"), "draining");
    const undrained = await runCli(["cluster", "undrain", "node-0"], adminEnv);
    assert.equal(undrained.code, 0, undrained.stderr);
    assert.equal(stateOf(await status(), "node-0"), "ready");
  });

  test("kill -9 an agent: suspect, then down within the TTL; restarted, it is ready without a new token", async () => {
    const victim = agents[1];
    assert.ok(victim);
    victim.child.kill("SIGKILL");
    await once(victim.child, "exit");
    const killedAt = Date.now();
    await waitFor("node-1 suspect", (n) => stateOf(n, "node-1") === "suspect");
    await waitFor("node-1 down", (n) => stateOf(n, "node-1") === "down");
    assert.ok(Date.now() - killedAt < BEAT_MS * 3 + 2_000, "down within the TTL (plus polling)");

    agents[1] = await startAgent(1);
    await waitFor("node-1 ready again", (n) => stateOf(n, "node-1") === "ready");
  });

  test("after a coordinator restart, the agents come back by themselves", async () => {
    await coordinator.stop();
    coordinator = await startCoordinator();
    await waitFor("all ready after restart", (n) => n.length === 3 && n.every((x) => x.state === "ready"));
  });

  test("bad, expired and reused tokens are refused and nothing is registered", async () => {
    const tryJoin = async (token: string, name: string) => {
      const dir = await tempDir("flotilla-joiner-");
      try {
        return await runCli(["agent", "--join", coordinator.url, "--token", token, "--name", name, "--port", "0", "--threads", "1"], {
          FLOTILLA_DATA_DIR: dir,
          FLOTILLA_HEARTBEAT_INTERVAL_MS: String(BEAT_MS),
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    };
    const bad = await tryJoin("flt_join_not-a-real-token", "intruder");
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /could not join .*401.*join token is not valid/);

    const short = await runCli(["token", "create", "--ttl", "1s"], adminEnv);
    await new Promise((r) => setTimeout(r, 1_100));
    const expired = await tryJoin(short.stdout.trim(), "late");
    assert.equal(expired.code, 1);
    assert.match(expired.stderr, /401/);

    const once = await runCli(["token", "create", "--uses", "1"], adminEnv);
    const first = startFlotilla({ command: "agent", args: ["--join", coordinator.url, "--token", once.stdout.trim(), "--name", "first"] });
    const joined = await first;
    try {
      const reused = await tryJoin(once.stdout.trim(), "second");
      assert.equal(reused.code, 1);
      assert.match(reused.stderr, /401/);
      const names = (await status()).map((n) => n.name).sort();
      assert.deepEqual(names, ["first", "node-0", "node-1", "node-2"]);
    } finally {
      await joined.stop();
      await runCli(["cluster", "remove", "first"], adminEnv);
    }
  });

  test("an agent answers only its coordinator", async () => {
    const node = (await status()).find((n) => n.name === "node-2");
    assert.ok(node?.url);
    const body = JSON.stringify({ model: TEST_MODEL_ID, input: { kind: "completion", prompt: "x" }, params: { stop: [] } });
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: "Bearer wrong" },
      { authorization: `Bearer ${adminEnv.FLOTILLA_ADMIN_KEY}` },
    ];
    for (const headers of attempts) {
      const statusRes = await fetch(`${node.url}/agent/v1/status`, { headers });
      assert.equal(statusRes.status, 401);
      const gen = await fetch(`${node.url}/agent/v1/run`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body });
      assert.equal(gen.status, 401);
    }
    assert.equal((await fetch(`${node.url}/healthz`)).status, 200);
  });
});
