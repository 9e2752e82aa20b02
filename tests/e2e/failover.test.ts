// Failure the user never sees: a coordinator and three agents as separate
// processes, each serving the real model, and nodes that hang (SIGSTOP),
// die (SIGKILL) and come back while clients keep asking. Heartbeats are slow
// here on purpose (a node is suspect only after 3 s), so what routes around
// a failed node within the test is the dispatcher itself: its timeouts,
// retries and circuits. /metrics is read with a Prometheus text parser.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import OpenAI from "openai";
import { fetchClusterStatus, runCli, startCoordinator, startFlotilla, testModelPath, TEST_MODEL_ID, waitForClusterStatus, type FlotillaProcess } from "@flotilla/testkit";

const BEAT_MS = 2_000;
const CONNECT_TIMEOUT_MS = 600;
const BASE_EJECTION_MS = 1_500;

interface StatusNode {
  name: string;
  state: string;
  circuit: { state: "closed" | "open" | "half-open"; consecutiveFailures: number; ejectionLeftMs: number };
  dispatched: number;
}
interface Status {
  nodes: StatusNode[];
  queue: { depth: number; maxDepth: number };
}

// The parser ships no types; this is the part of its output the test reads.
interface MetricFamily {
  name: string;
  type: string;
  metrics: Array<{ value?: string; labels?: Record<string, string> }>;
}
const parsePrometheus = createRequire(import.meta.url)("parse-prometheus-text-format") as (text: string) => MetricFamily[];

describe("nodes failing under load", () => {
  let dir: string;
  let coordinator: FlotillaProcess;
  let adminKey: string;
  let client: OpenAI;
  let model: string;
  const agents = new Map<string, FlotillaProcess>();

  const startAgent = (name: string, token?: string) =>
    startFlotilla({
      command: "agent",
      dataDir: path.join(dir, name),
      args: [
        "--join", coordinator.url, ...(token ? ["--token", token] : []),
        "--name", name, "--model", model, "--slots", "2", "--threads", "1",
        "--heartbeat-interval-ms", String(BEAT_MS),
      ],
    }).then((agent) => {
      agents.set(name, agent);
      return agent;
    });
  const status = () => fetchClusterStatus(coordinator.url, adminKey);
  const nodeOf = async (name: string) => (await status()).nodes.find((n) => n.name === name);
  const waitFor = (what: string, check: (s: Status) => boolean, timeoutMs = 15_000) =>
    waitForClusterStatus(coordinator.url, adminKey, what, check, timeoutMs);
  // A restarted node is ready once it heartbeats; its circuit stays half-open
  // until the next request to it (the probe) succeeds.
  const allReady = () => waitFor("three ready nodes, none ejected", (s) =>
    s.nodes.filter((n) => n.state === "ready" && n.circuit.state !== "open").length === 3);
  const signal = (name: string, sig: NodeJS.Signals) => {
    const agent = agents.get(name);
    assert.ok(agent?.child.pid, `${name} is running`);
    process.kill(agent.child.pid, sig);
  };
  /** A non-streaming chat answer and the node that gave it. */
  const ask = async (seed: number, maxTokens = 8) => {
    const { data, response } = await client.chat.completions
      .create({ model: TEST_MODEL_ID, messages: [{ role: "user", content: "Tell me a story." }], max_tokens: maxTokens, seed })
      .withResponse();
    return { text: data.choices[0]?.message.content ?? "", node: response.headers.get("x-flotilla-node") ?? "" };
  };
  const metrics = async () => {
    const res = await fetch(`${coordinator.url}/metrics`, { headers: { authorization: `Bearer ${adminKey}` } });
    assert.equal(res.status, 200);
    return parsePrometheus(await res.text());
  };
  const sumOf = (families: MetricFamily[], name: string, labels: Record<string, string> = {}) =>
    (families.find((f) => f.name === name)?.metrics ?? [])
      .filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
      .reduce((sum, m) => sum + Number(m.value ?? 0), 0);

  before(async () => {
    model = await testModelPath();
    dir = await mkdtemp(path.join(tmpdir(), "flotilla-failover-"));
    ({ coordinator, adminKey } = await startCoordinator({
      dir,
      label: "failover",
      heartbeatIntervalMs: BEAT_MS,
      clusterFile: [
        "routing:",
        // A short connect limit catches the hung node; generous first-token
        // and idle limits keep a busy test machine from failing healthy streams.
        "  timeouts:",
        `    "1": { connectMs: ${CONNECT_TIMEOUT_MS}, firstTokenMs: 20000, idleMs: 10000 }`,
        `  circuit: { failuresToOpen: 1, baseEjectionMs: ${BASE_EJECTION_MS} }`,
      ],
    }));
    client = new OpenAI({ baseURL: `${coordinator.url}/v1`, apiKey: adminKey, maxRetries: 0 });
    const token = await runCli(["token", "create", "--uses", "3"], { FLOTILLA_ADMIN_KEY: adminKey, FLOTILLA_URL: coordinator.url });
    assert.equal(token.code, 0, token.stderr);
    await Promise.all(["a", "b", "c"].map((name) => startAgent(name, token.stdout.trim())));
    await allReady();
  });
  after(async () => {
    for (const agent of agents.values()) {
      if (agent.child.pid !== undefined && agent.child.exitCode === null) process.kill(agent.child.pid, "SIGCONT");
    }
    await Promise.all([...agents.values()].map((a) => a.stop()));
    await coordinator?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("a hung node (SIGSTOP) is routed around after the connect timeout, and taken back after its half-open probe", async () => {
    signal("b", "SIGSTOP");
    try {
      // Enough requests that some are sent to b: each of those waits out the
      // connect timeout there and is answered by another node instead.
      const answers = await Promise.all(Array.from({ length: 9 }, (_, i) => ask(100 + i)));
      for (const a of answers) {
        assert.ok(a.text.length > 0);
        assert.notEqual(a.node, "b", "no answer comes from the hung node");
      }
      const b = await nodeOf("b");
      assert.equal(b?.circuit.state, "open", "b's circuit opened");
      assert.equal(b?.state, "ready", "heartbeats have not noticed yet: the dispatcher did");
      const later = await Promise.all(Array.from({ length: 6 }, (_, i) => ask(200 + i)));
      assert.ok(later.every((a) => a.node !== "b"), "while ejected, b gets nothing");
    } finally {
      signal("b", "SIGCONT");
    }
    // Once its ejection has passed, one request probes b; its success closes the circuit.
    await new Promise((r) => setTimeout(r, BASE_EJECTION_MS * 1.3));
    const served: string[] = [];
    for (let i = 0; i < 40 && !served.includes("b"); i++) served.push((await ask(300 + i)).node);
    assert.ok(served.includes("b"), `b answers again (answers came from ${served.join(", ")})`);
    assert.equal((await nodeOf("b"))?.circuit.state, "closed");
  });

  test("kill -9 a node under concurrent load: no client request fails", async () => {
    await allReady();
    const before = await metrics();
    let sent = 0;
    let killed = false;
    const answeredBy: string[] = [];
    const worker = async () => {
      while (sent < 36) {
        const seed = sent++;
        if (seed === 8 && !killed) {
          killed = true;
          signal("a", "SIGKILL");
        }
        answeredBy.push((await ask(seed, 24)).node);
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
    assert.equal(answeredBy.length, 36, "every request was answered");
    const after = await metrics();
    const ok = sumOf(after, "flotilla_requests_total", { outcome: "ok" }) - sumOf(before, "flotilla_requests_total", { outcome: "ok" });
    assert.equal(ok, 36, "the metrics counted each request once, as ok");
    assert.equal(sumOf(after, "flotilla_requests_total", { outcome: "error" }), sumOf(before, "flotilla_requests_total", { outcome: "error" }));
    assert.ok(sumOf(after, "flotilla_retries_total", { node: "a" }) > sumOf(before, "flotilla_retries_total", { node: "a" }),
      "requests that met the dead node were retried elsewhere, and the metrics say so");
    assert.ok(sumOf(after, "flotilla_failovers_total") > sumOf(before, "flotilla_failovers_total"), "and counted as failovers");
    const a = await nodeOf("a");
    assert.notEqual(a?.circuit.state, "closed", "the dead node's circuit is open");
    // Back for the next tests: the agent rejoins with its saved credential.
    await startAgent("a");
    await allReady();
  });

  const longStream = (continueOnFailure: boolean) =>
    client.chat.completions
      .create({
        model: TEST_MODEL_ID,
        messages: [{ role: "user", content: "Tell me a long story." }],
        max_tokens: 400,
        stream: true,
        // flotilla's own field; the SDK passes it through.
        ...({ continue_on_failure: continueOnFailure } as object),
      })
      .withResponse();

  test("continue_on_failure: a stream whose node is killed mid-answer arrives whole and says it was resumed", async () => {
    await allReady();
    const { data: stream, response } = await longStream(true);
    const first = response.headers.get("x-flotilla-node") ?? "";
    let text = "";
    let chunks = 0;
    let finish: string | null | undefined;
    let flotilla: { resumed?: boolean; nodes?: string[] } | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      flotilla ??= (chunk as unknown as { flotilla?: typeof flotilla }).flotilla;
      if (++chunks === 3) signal(first, "SIGKILL");
    }
    assert.equal(finish, "length", "the answer ran to max_tokens, as if nothing happened");
    assert.equal(flotilla?.resumed, true, "the final chunk says it was resumed");
    assert.equal(flotilla?.nodes?.[0], first);
    assert.equal(flotilla?.nodes?.length, 2);
    assert.notEqual(flotilla?.nodes?.[1], first, "resumed on another node");
    assert.ok(text.length > 400, `a whole answer of about 400 tokens (${text.length} characters)`);
    const m = await metrics();
    assert.ok(sumOf(m, "flotilla_continuations_total", { node: first }) >= 1);
    await startAgent(first);
  });

  test("without continue_on_failure, the stream ends with an error event, never a fake [DONE]", async () => {
    await allReady();
    const { data: stream, response } = await longStream(false);
    const first = response.headers.get("x-flotilla-node") ?? "";
    let chunks = 0;
    await assert.rejects(async () => {
      for await (const _ of stream) {
        if (++chunks === 3) signal(first, "SIGKILL");
      }
    }, (err: Error) => err.message.includes(`node ${first}`));
    await startAgent(first);
  });
});
