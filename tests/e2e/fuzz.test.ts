// The fuzz suite (docs/adr/0028): thousands of seeded, mutated bodies against
// every route that reads a body from someone other than the operator — the
// OpenAI routes, the Ollama routes (in Ollama's error shape) and /cluster/execute of a coordinator process, the agent's
// /agent/v1/run (with the coordinator's credential), and the join and
// heartbeat routes of a second coordinator, so that the nodes the fuzz
// registers there never take the first one's traffic. Every answer must be a
// 2xx or a 4xx in the API's own error shape, within a client-side timeout; a
// normal request must be answered between batches and at the end; every
// process must be alive at the end, its resident memory within a bound.
//
// FLOTILLA_FUZZ_SEED replays a run (the seed is printed with every failure);
// FLOTILLA_FUZZ_SCALE multiplies the number of bodies (e.g. 10 for a soak).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { detectHardware } from "@flotilla/agent";
import { PROTOCOL_VERSION, type AgentLoad, type HardwareInfo, type JoinResponse } from "@flotilla/protocol";
import { deriveCoordinatorCredential } from "@flotilla/security";
import { freePort, startFlotilla, testModelPath, TEST_MODEL_ID, waitForClusterStatus, type FlotillaProcess } from "@flotilla/testkit";
import { mutatedBody, type Json } from "./fixtures/json-mutations.ts";
import { fuzzRoute, residentBytes, type FuzzReport } from "./fixtures/fuzz-run.ts";

const SEED = Number(process.env.FLOTILLA_FUZZ_SEED ?? 20_261_202);
const SCALE = Number(process.env.FLOTILLA_FUZZ_SCALE ?? 1);
const BEAT_MS = 1_000;
/** Well past the slowest honest answer here (a few tokens, a 2048-item embedding) on a loaded 2-core machine. */
const CLIENT_TIMEOUT_MS = 30_000;
/** The agent's 2 slots, plus one waiting in the busy queue: never so many that the queue fills (503 by design). */
const CONCURRENCY = 3;
const PROBE_EVERY = 100;
/**
 * Resident memory each process may reach by the end of a run at the default
 * scale. Measured on the 2-core CI machine: about 220 MB for the coordinator,
 * 210 MB for the agent and 180 MB for the membership coordinator, against
 * about 90 MB and 150 MB idle (BENCHMARKS.md, footprint). The bodies sent add
 * up to well over 200 MB, so a process that kept even a small part of what it
 * was sent goes past the bound, while V8 keeping the heap it grew for 200 KB
 * bodies and 50,000-deep values stays under it. That heap grows sub-linearly
 * with the number of bodies (the coordinator: 220, 320, 360 MB at 1×, 2×, 5×),
 * so a soak at a larger FLOTILLA_FUZZ_SCALE reports memory instead of asserting it.
 */
const RSS_LIMIT_BYTES = 400 * 1024 * 1024;

const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
/** One seed per route, derived from the run's, so adding a route leaves the others' bodies as they were. */
const bodies = (route: string, bases: readonly Json[], n: number): string[] =>
  fc.sample(mutatedBody(bases), { seed: SEED + [...route].reduce((h, c) => (h * 31 + c.charCodeAt(0)) | 0, 0), numRuns: runs(n) });

function assertClean(route: string, report: FuzzReport): void {
  const statuses = [...report.statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(" ");
  console.log(`fuzz ${route}: ${report.sent} sent, seed ${SEED}: ${statuses}`);
  assert.deepEqual(report.failures.slice(0, 10), [], `${route} (seed ${SEED}, ${report.sent} sent: ${statuses}): ${report.failures.length} failures`);
  assert.ok((report.statuses.get(200) ?? 0) > 0, `${route}: some bodies must run for real (${statuses})`);
}

describe("fuzz: mutated bodies get a 2xx or a 4xx, never a 5xx, a hang or a crash", () => {
  let dir: string;
  let coordinator: FlotillaProcess;
  let membershipCoordinator: FlotillaProcess;
  let agent: FlotillaProcess;
  let clientHeaders: Record<string, string>;
  let agentHeaders: Record<string, string>;
  let membershipAdmin: Record<string, string>;
  let joinHeaders: Record<string, string>;
  let heartbeatHeaders: Record<string, string>;
  let load: AgentLoad;
  let hardware: HardwareInfo;
  let deadAgentUrl: string;

  const post = async <T>(url: string, headers: Record<string, string>, body: unknown): Promise<T> => {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
    });
    const text = await res.text();
    assert.ok(res.status < 300, `POST ${url}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };

  /** A normal chat request through the coordinator (and so the agent): null when answered properly. */
  const chatProbe = async (): Promise<string | null> => {
    const res = await fetch(`${coordinator.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...clientHeaders },
      body: JSON.stringify({ model: TEST_MODEL_ID, messages: [{ role: "user", content: "Once" }], max_tokens: 2 }),
      signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
    }).catch((err: unknown) => err);
    if (!(res instanceof Response)) return `no answer: ${String(res)}`;
    const body = await res.text();
    if (res.status !== 200) return `${res.status} ${body}`;
    const parsed = JSON.parse(body) as { choices?: { message?: { content?: unknown } }[] };
    return typeof parsed.choices?.[0]?.message?.content === "string" ? null : `no answer text: ${body}`;
  };
  const membershipProbe = async (): Promise<string | null> => {
    const res = await fetch(`${membershipCoordinator.url}/cluster/status`, { headers: membershipAdmin, signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS) }).catch(
      (err: unknown) => err,
    );
    if (!(res instanceof Response)) return `no answer: ${String(res)}`;
    return res.status === 200 ? null : `${res.status} ${await res.text()}`;
  };

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "flotilla-fuzz-"));
    const model = await testModelPath();
    coordinator = await startFlotilla({
      command: "coordinator",
      dataDir: path.join(dir, "coordinator"),
      // Whatever max_tokens a body asks for, an answer is a few tokens long.
      args: ["--heartbeat-interval-ms", String(BEAT_MS), "--max-tokens-limit", "8"],
    });
    const admin = { authorization: `Bearer ${coordinator.adminKey}` };
    const { token } = await post<{ token: string }>(`${coordinator.url}/cluster/tokens`, admin, { uses: 1, ttlMs: 600_000 });
    agent = await startFlotilla({
      command: "agent",
      dataDir: path.join(dir, "agent"),
      args: [
        ...["--join", coordinator.url, "--token", token, "--name", "fuzz-agent", "--model", model],
        // A small context bounds every generation, whatever a body asks.
        ...["--slots", "2", "--ctx-size", "128", "--heartbeat-interval-ms", String(BEAT_MS)],
      ],
    });
    await waitForClusterStatus(coordinator.url, coordinator.adminKey, "the agent ready", (s) => s.nodes.some((n) => n.name === "fuzz-agent" && n.state === "ready"));
    const { key } = await post<{ key: string }>(`${coordinator.url}/cluster/keys`, admin, { name: "fuzz" });
    clientHeaders = { authorization: `Bearer ${key}` };

    // The coordinator's credential for the agent, derived as the coordinator derives it (docs/adr/0010).
    const saved = JSON.parse(await readFile(path.join(agent.dataDir, "agent-credentials.json"), "utf8")) as { nodeId: string };
    const clusterSecret = (await readFile(path.join(coordinator.dataDir, "cluster.key"), "utf8")).trim();
    agentHeaders = { authorization: `Bearer ${deriveCoordinatorCredential(clusterSecret, saved.nodeId)}` };
    const status = await fetch(`${agent.url}/agent/v1/status`, { headers: agentHeaders });
    assert.equal(status.status, 200, "the derived credential opens the agent");
    load = (await status.json()) as AgentLoad;
    hardware = await detectHardware({ modelDir: dir });

    membershipCoordinator = await startFlotilla({
      command: "coordinator",
      dataDir: path.join(dir, "membership-coordinator"),
      args: ["--heartbeat-interval-ms", "60000"],
    });
    membershipAdmin = { authorization: `Bearer ${membershipCoordinator.adminKey}` };
    const many = await post<{ token: string }>(`${membershipCoordinator.url}/cluster/tokens`, membershipAdmin, { uses: 10_000, ttlMs: 600_000 });
    joinHeaders = { authorization: `Bearer ${many.token}` };
    // Nothing listens there: the joined nodes are never called.
    deadAgentUrl = `http://127.0.0.1:${await freePort()}`;
    const joined = await post<JoinResponse>(`${membershipCoordinator.url}/cluster/join`, joinHeaders, {
      protocolVersion: PROTOCOL_VERSION,
      name: "fuzz-heartbeat",
      tier: 1,
      pool: "default",
      agentUrl: deadAgentUrl,
      hardware,
      load,
    });
    heartbeatHeaders = { authorization: `Bearer ${joined.nodeCredential}` };
  });

  after(async () => {
    await agent?.stop();
    await coordinator?.stop();
    await membershipCoordinator?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const onCoordinator = (route: string, bases: readonly Json[], n: number, allowed?: (status: number, body: string) => boolean, errorShape?: "ollama"): void => {
    void test(`POST ${route}`, async () => {
      const report = await fuzzRoute({
        url: `${coordinator.url}${route}`,
        headers: clientHeaders,
        bodies: bodies(route, bases, n),
        concurrency: CONCURRENCY,
        timeoutMs: CLIENT_TIMEOUT_MS,
        probe: chatProbe,
        probeEvery: PROBE_EVERY,
        ...(allowed === undefined ? {} : { allowed }),
        ...(errorShape === undefined ? {} : { errorShape }),
      });
      assertClean(route, report);
    });
  };

  const chat = { model: TEST_MODEL_ID, messages: [{ role: "user", content: "Tell me a story about a cat." }], max_tokens: 4 };
  onCoordinator(
    "/v1/chat/completions",
    [
      chat,
      { ...chat, stream: true, stream_options: { include_usage: true } },
      {
        model: TEST_MODEL_ID,
        messages: [
          { role: "system", content: "You tell stories." },
          { role: "user", content: "Once" },
          { role: "assistant", content: "upon a time" },
          { role: "user", content: "go on" },
        ],
        max_completion_tokens: 3,
        temperature: 1,
        top_p: 0.9,
        seed: 7,
        stop: ["."],
        presence_penalty: 0.5,
        frequency_penalty: 0.5,
        n: 1,
        user: "fuzz",
      },
      {
        ...chat,
        max_tokens: 8,
        tools: [{ type: "function", function: { name: "get_weather", description: "now", parameters: { type: "object", properties: { city: { type: "string", maxLength: 8 }, unit: { enum: ["c", "f"] } }, required: ["city"] } } }],
        tool_choice: { type: "function", function: { name: "get_weather" } },
        parallel_tool_calls: false,
      },
      {
        model: TEST_MODEL_ID,
        max_tokens: 8,
        messages: [
          { role: "user", content: "Weather?" },
          { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } }] },
          { role: "tool", tool_call_id: "call_1", content: "cold" },
        ],
        tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }],
        tool_choice: "required",
        stream: true,
      },
      { ...chat, max_tokens: 8, response_format: { type: "json_schema", json_schema: { name: "r", schema: { type: "object", properties: { mood: { enum: ["happy", "sad"] }, n: { type: "integer" }, tags: { type: "array", items: { type: "string", maxLength: 4 }, maxItems: 2 } } }, strict: true } } },
      { ...chat, max_tokens: 8, response_format: { type: "json_object" } },
    ],
    1_200,
  );

  // Ollama's API (gateway/ollama): the same dispatcher, Ollama's error shape.
  const ollamaChat = { model: TEST_MODEL_ID, messages: [{ role: "user", content: "Tell me a story" }], options: { num_predict: 4, temperature: 0.5, top_k: 20, seed: 3 } };
  onCoordinator(
    "/api/chat",
    [
      ollamaChat,
      { ...ollamaChat, stream: false, keep_alive: "5m", format: "json" },
      { ...ollamaChat, format: { type: "object", properties: { mood: { enum: ["happy", "sad"] } } }, tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }] },
      { model: `${TEST_MODEL_ID}:latest`, messages: [], keep_alive: 0 },
    ],
    500,
    undefined,
    "ollama",
  );
  onCoordinator(
    "/api/generate",
    [
      { model: TEST_MODEL_ID, prompt: "Once upon a time", options: { num_predict: 4, stop: ["."] } },
      { model: TEST_MODEL_ID, prompt: "Once", raw: true, stream: false, system: "Be brief.", options: { num_predict: 3, num_ctx: 512 } },
      { model: TEST_MODEL_ID, prompt: "", keep_alive: 0 },
    ],
    400,
    undefined,
    "ollama",
  );
  onCoordinator("/api/embed", [{ model: TEST_MODEL_ID, input: "a cat" }, { model: TEST_MODEL_ID, input: ["a", "b"], truncate: true }], 300, undefined, "ollama");
  onCoordinator("/api/show", [{ model: TEST_MODEL_ID }, { name: `${TEST_MODEL_ID}:latest`, verbose: true }], 200, undefined, "ollama");

  const completion = { model: TEST_MODEL_ID, prompt: "Once upon a time", max_tokens: 4, seed: 5, temperature: 0 };
  onCoordinator(
    "/v1/completions",
    [completion, { ...completion, echo: true, stop: ["ball"] }, { ...completion, stream: true }],
    1_000,
  );

  onCoordinator(
    "/v1/embeddings",
    [
      { model: TEST_MODEL_ID, input: "Tom had a ball." },
      { model: TEST_MODEL_ID, input: ["a cat", "a dog"], encoding_format: "base64" },
      { model: TEST_MODEL_ID, input: [1, 2, 3] },
      { model: TEST_MODEL_ID, input: [[1, 2], [3]], encoding_format: "float" },
    ],
    800,
  );

  // `timeout` is the client's own deadline: a 504 for it is the answer it asked for.
  const deadlineAnswer = (status: number, body: string) => status === 504 && body.includes('"code":"timeout"');
  onCoordinator(
    "/cluster/execute",
    [
      { query: "Tell me a story", max_tokens: 4 },
      { query: "Once", context: "Be brief.", model: TEST_MODEL_ID, max_tokens: 3, prefer_tier: 1, tier_fallback: true, timeout: 30 },
      { query: "Once", conversation_id: null, model: null, max_tokens: 2, prefer_tier: null, timeout: null },
    ],
    600,
    deadlineAnswer,
  );

  test("POST /agent/v1/run (the agent, with its coordinator's credential)", async () => {
    const params = { maxTokens: 4, stop: [] };
    const report = await fuzzRoute({
      url: `${agent.url}/agent/v1/run`,
      headers: agentHeaders,
      bodies: bodies("/agent/v1/run", [
        { model: TEST_MODEL_ID, input: { kind: "completion", prompt: "Once upon a time" }, params },
        { model: TEST_MODEL_ID, input: { kind: "chat", messages: [{ role: "user", content: "hi" }] }, params: { ...params, temperature: 0.5, seed: 3, stop: ["."] } },
        { model: TEST_MODEL_ID, input: { kind: "embedding", items: ["a cat", [1, 2, 3]] } },
      ], 1_000),
      concurrency: CONCURRENCY,
      timeoutMs: CLIENT_TIMEOUT_MS,
      probe: chatProbe,
      probeEvery: PROBE_EVERY,
    });
    assertClean("/agent/v1/run", report);
  });

  test("POST /cluster/join (a second coordinator, with a join token of many uses)", async () => {
    const report = await fuzzRoute({
      url: `${membershipCoordinator.url}/cluster/join`,
      headers: joinHeaders,
      bodies: bodies("/cluster/join", [
        { protocolVersion: PROTOCOL_VERSION, name: "fuzz-join", tier: 0, pool: "default", agentUrl: deadAgentUrl, hardware, load },
      ], 800),
      concurrency: CONCURRENCY,
      timeoutMs: CLIENT_TIMEOUT_MS,
      probe: membershipProbe,
      probeEvery: PROBE_EVERY,
    });
    assertClean("/cluster/join", report);
  });

  test("POST /cluster/heartbeat (a second coordinator, with a node's credential)", async () => {
    const report = await fuzzRoute({
      url: `${membershipCoordinator.url}/cluster/heartbeat`,
      headers: heartbeatHeaders,
      bodies: bodies("/cluster/heartbeat", [
        { protocolVersion: PROTOCOL_VERSION, agentUrl: deadAgentUrl, load },
        { protocolVersion: PROTOCOL_VERSION, agentUrl: deadAgentUrl, load, hardware },
      ], 800),
      concurrency: CONCURRENCY,
      timeoutMs: CLIENT_TIMEOUT_MS,
      probe: membershipProbe,
      probeEvery: PROBE_EVERY,
    });
    assertClean("/cluster/heartbeat", report);
  });

  test("afterwards: every process alive, a normal request answered, memory within its bound", async () => {
    for (const [name, proc] of [
      ["coordinator", coordinator],
      ["agent", agent],
      ["membership coordinator", membershipCoordinator],
    ] as const) {
      assert.equal(proc.child.exitCode, null, `${name} exited: ${proc.stderr().slice(-2_000)}`);
      assert.equal(proc.child.signalCode, null, `${name} was killed`);
    }
    assert.equal(await chatProbe(), null);
    assert.equal(await membershipProbe(), null);
    const rss = {
      coordinator: await residentBytes(coordinator.child.pid ?? 0),
      agent: await residentBytes(agent.child.pid ?? 0),
      membership: await residentBytes(membershipCoordinator.child.pid ?? 0),
    };
    const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
    console.log(`fuzz seed ${SEED}: resident memory at the end: coordinator ${mb(rss.coordinator)}, agent ${mb(rss.agent)}, membership coordinator ${mb(rss.membership)}`);
    if (SCALE > 1) return;
    for (const [name, bytes] of Object.entries(rss)) assert.ok(bytes < RSS_LIMIT_BYTES, `${name}: ${mb(bytes)} resident, over ${mb(RSS_LIMIT_BYTES)}`);
  });
});
