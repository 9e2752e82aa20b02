// Embeddings, the second workload on the one data path: the official OpenAI
// SDK's embeddings.create against real processes serving the real test model
// through llama.cpp — `flotilla up` (the in-process agent), and a coordinator
// whose nodes are a joined agent and an agentless OpenAI server (a second
// `flotilla up`, standing in for vLLM or llama-server). What a user checks:
// the same text gives the same vector wherever it ran, different texts
// different ones, vectors of unit length, real token counts, and clear 400s.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import OpenAI from "openai";
import { getLlama, LlamaLogLevel, type LlamaModel } from "node-llama-cpp";
import { runCli, startCoordinator, startFlotilla, testModelPath, TEST_MODEL_ID, waitForClusterStatus, type FlotillaProcess } from "@flotilla/testkit";

const cosine = (a: readonly number[], b: readonly number[]): number => {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += (a[i] ?? 0) * (b[i] ?? 0);
  return dot; // both are of unit length
};
const norm = (v: readonly number[]): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

describe("embeddings through flotilla up", () => {
  let fl: FlotillaProcess;
  let client: OpenAI;
  let tokenizer: LlamaModel;

  before(async () => {
    const model = await testModelPath();
    fl = await startFlotilla({ args: ["--model", model] });
    client = new OpenAI({ baseURL: `${fl.url}/v1`, apiKey: "not-needed-while-no-keys-exist", maxRetries: 0 });
    const llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error, build: "never" });
    tokenizer = await llama.loadModel({ modelPath: model });
  });
  after(async () => {
    await tokenizer.dispose();
    await fl.stop();
  });

  test("the model advertises embed beside chat (and tools and json), in status", async () => {
    const res = await fetch(`${fl.url}/cluster/status`, { headers: { authorization: `Bearer ${fl.adminKey}` } });
    const body = (await res.json()) as { nodes: Array<{ models: Array<{ id: string; capabilities: string[] }> }> };
    assert.deepEqual(body.nodes[0]?.models.map((m) => [m.id, m.capabilities]), [[TEST_MODEL_ID, ["chat", "embed", "tools", "json"]]]);
  });

  test("same text, same vector; different texts, different vectors; unit length; real token counts", async () => {
    const texts = ["Once upon a time there was a cat.", "Once upon a time there was a cat.", "The rocket flew to the moon."];
    const res = await client.embeddings.create({ model: TEST_MODEL_ID, input: texts });
    assert.equal(res.object, "list");
    assert.equal(res.model, TEST_MODEL_ID);
    assert.deepEqual(res.data.map((d) => d.index), [0, 1, 2]);
    const [a, b, c] = res.data.map((d) => d.embedding) as [number[], number[], number[]];
    assert.ok(a.length > 0);
    for (const v of [a, b, c]) assert.ok(Math.abs(norm(v) - 1) < 1e-6, "normalised, as OpenAI's are");
    assert.deepEqual(a, b);
    assert.ok(cosine(a, c) < 0.999, `different texts differ (cosine ${cosine(a, c)})`);
    const tokens = texts.reduce((n, t) => n + tokenizer.tokenize(t).length, 0);
    assert.equal(res.usage.prompt_tokens, tokens);
    assert.equal(res.usage.total_tokens, tokens);
  });

  test("one string, a token array, and base64 all give the same vector", async () => {
    const text = "A small dog ran home.";
    const one = (await client.embeddings.create({ model: TEST_MODEL_ID, input: text })).data[0]?.embedding ?? [];
    const tokens = [...tokenizer.tokenize(text)].map(Number);
    const fromTokens = (await client.embeddings.create({ model: TEST_MODEL_ID, input: tokens })).data[0]?.embedding ?? [];
    assert.deepEqual(fromTokens, one);
    // The SDK asks for base64 by default when no format is given, and decodes it; ask the wire directly too.
    const raw = await fetch(`${fl.url}/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: TEST_MODEL_ID, input: text, encoding_format: "base64" }),
    });
    const body = (await raw.json()) as { data: Array<{ embedding: string }> };
    const bytes = Buffer.from(body.data[0]?.embedding ?? "", "base64");
    const floats = [...new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)];
    assert.equal(floats.length, one.length);
    floats.forEach((x, i) => assert.ok(Math.abs(x - (one[i] ?? 0)) < 1e-6));
  });

  test("bad input is refused in OpenAI's shape, naming the field", async () => {
    const refused = async (body: unknown) => {
      const res = await fetch(`${fl.url}/v1/embeddings`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      return { status: res.status, error: ((await res.json()) as { error: { code: string; param: string | null; message: string } }).error };
    };
    const empty = await refused({ model: TEST_MODEL_ID, input: "" });
    assert.equal(empty.status, 400);
    assert.equal(empty.error.param, "input");
    const dims = await refused({ model: TEST_MODEL_ID, input: "hi", dimensions: 7 });
    assert.equal(dims.status, 400);
    assert.equal(dims.error.param, "dimensions");
    assert.match(dims.error.message, /cannot be shortened to 7/);
    const outside = await refused({ model: TEST_MODEL_ID, input: [[1, 2, 99_999]] });
    assert.equal(outside.status, 400);
    assert.equal(outside.error.param, "input[0]");
    assert.match(outside.error.message, /vocabulary/);
    const unknown = await refused({ model: "no-such-model", input: "hi" });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.error.code, "model_not_found");
    const format = await refused({ model: TEST_MODEL_ID, input: "hi", encoding_format: "int8" });
    assert.equal(format.status, 400);
    assert.equal(format.error.param, "encoding_format");
  });
});

describe("embeddings through a coordinator: a joined agent and an agentless server", () => {
  let dir: string;
  let coordinator: FlotillaProcess;
  let agent: FlotillaProcess;
  let server: FlotillaProcess;
  let adminKey: string;
  let client: OpenAI;

  before(async () => {
    const model = await testModelPath();
    dir = await mkdtemp(path.join(tmpdir(), "flotilla-embeddings-"));
    server = await startFlotilla({ args: ["--model", model, "--name", "plain"] });
    ({ coordinator, adminKey } = await startCoordinator({
      dir,
      label: "embeddings",
      heartbeatIntervalMs: 250,
      clusterFile: ["nodes:", "  - name: agentless", `    url: ${server.url}`, "    kind: openai", "    tier: 2"],
    }));
    const token = await runCli(["token", "create"], { FLOTILLA_ADMIN_KEY: adminKey, FLOTILLA_URL: coordinator.url });
    assert.equal(token.code, 0, token.stderr);
    agent = await startFlotilla({
      command: "agent",
      dataDir: path.join(dir, "agent"),
      args: ["--join", coordinator.url, "--token", token.stdout.trim(), "--name", "desk", "--tier", "0", "--model", model, "--heartbeat-interval-ms", "250"],
    });
    await waitForClusterStatus(coordinator.url, adminKey, "both nodes ready", (s) => s.nodes.filter((n) => n.state === "ready").length === 2);
    client = new OpenAI({ baseURL: `${coordinator.url}/v1`, apiKey: adminKey, maxRetries: 0 });
  });
  after(async () => {
    await agent.stop();
    await coordinator.stop();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("both node kinds embed, and the same text gives the same vector on either", async () => {
    const input = ["Tom found a red ball.", "The sun was hot."];
    const onNode = async (tier: string) => {
      const { data, response } = await client.embeddings.create({ model: TEST_MODEL_ID, input }, { headers: { "x-flotilla-tier": tier, "x-flotilla-tier-fallback": "false" } }).withResponse();
      return { node: response.headers.get("x-flotilla-node"), vectors: data.data.map((d) => d.embedding), tokens: data.usage.prompt_tokens };
    };
    const viaAgent = await onNode("0");
    const viaServer = await onNode("2");
    assert.equal(viaAgent.node, "desk");
    assert.equal(viaServer.node, "agentless");
    assert.equal(viaAgent.tokens, viaServer.tokens);
    for (let i = 0; i < input.length; i++) {
      const similarity = cosine(viaAgent.vectors[i] ?? [], viaServer.vectors[i] ?? []);
      assert.ok(similarity > 0.9999, `input ${i}: the same model embeds the same text alike on both nodes (cosine ${similarity})`);
    }
  });

  test("an embedding request explains its route like any other: capability embed, every node scored", async () => {
    const res = await fetch(`${coordinator.url}/v1/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: TEST_MODEL_ID, input: "hello" }),
    });
    assert.equal(res.status, 200);
    assert.ok(["desk", "agentless"].includes(res.headers.get("x-flotilla-node") ?? ""));
    assert.match(res.headers.get("x-flotilla-route") ?? "", /embeddings are not classified/);
  });
});
