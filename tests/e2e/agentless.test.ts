// Agentless nodes: a `flotilla up` serving the real test model stands in for
// any OpenAI-compatible server (llama-server, vLLM, LM Studio). A coordinator
// alone takes it twice — once from its cluster file, once through
// `flotilla cluster add` — health-checks it itself, routes the official
// OpenAI client to it, notices when it stops, and refuses URLs outside its
// allowlist and cluster files that do not validate.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import OpenAI from "openai";
import { fetchClusterStatus, freePort, runCli, testAdminKey, startFlotilla, testModelPath, TEST_MODEL_ID, waitForClusterStatus, type FlotillaProcess } from "@flotilla/testkit";

const BEAT_MS = 250;

interface StatusNode {
  name: string;
  kind: string;
  state: string;
  tier: number;
  url: string | null;
  labels?: Record<string, string>;
  error?: string;
  models: Array<{ id: string; slots: { total: number } }>;
}

describe("agentless nodes", () => {
  let dir: string;
  let server: FlotillaProcess;
  let coordinator: FlotillaProcess;
  let adminEnv: Record<string, string>;
  let clusterFile: string;

  const startCoordinator = (port: number) =>
    startFlotilla({
      command: "coordinator",
      port,
      dataDir: path.join(dir, "coordinator"),
      env: adminEnv,
      args: ["--heartbeat-interval-ms", String(BEAT_MS), "--cluster-file", clusterFile],
    });
  const cli = async (...args: string[]) => runCli(args, adminEnv);
  const apiStatus = async (): Promise<StatusNode[]> =>
    (await fetchClusterStatus(coordinator.url, adminEnv.FLOTILLA_ADMIN_KEY ?? "")).nodes;
  const waitFor = async (what: string, check: (nodes: StatusNode[]) => boolean, timeoutMs = 10_000) =>
    (await waitForClusterStatus(coordinator.url, adminEnv.FLOTILLA_ADMIN_KEY ?? "", what, (s) => check(s.nodes), timeoutMs)).nodes;
  const node = (nodes: StatusNode[], name: string) => nodes.find((n) => n.name === name);
  const addNode = (body: unknown) =>
    fetch(`${coordinator.url}/cluster/nodes`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminEnv.FLOTILLA_ADMIN_KEY}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "flotilla-agentless-"));
    server = await startFlotilla({ args: ["--model", await testModelPath(), "--slots", "2"] });
    const port = await freePort();
    adminEnv = { FLOTILLA_ADMIN_KEY: testAdminKey(`agentless_${port}`), FLOTILLA_URL: `http://127.0.0.1:${port}` };
    clusterFile = path.join(dir, "cluster.yaml");
    await writeFile(
      clusterFile,
      ["nodes:", "  - name: from-file", `    url: ${server.url}`, "    kind: openai", "    tier: 2", "    labels: { source: file }", ""].join("\n"),
    );
    coordinator = await startCoordinator(port);
  });
  after(async () => {
    await coordinator.stop();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("`cluster add` checks the server at once; status lists it ready with its model, beside the file's node", async () => {
    const added = await cli("cluster", "add", server.url, "--kind", "openai", "--name", "plain", "--tier", "0");
    assert.equal(added.code, 0, added.stderr);
    assert.equal(added.stdout, "plain\n");
    assert.match(added.stderr, new RegExp(`plain added: openai server at ${server.url}, serving ${TEST_MODEL_ID}`));

    await waitFor("from-file ready", (nodes) => node(nodes, "from-file")?.state === "ready");
    const status = await cli("cluster", "status", "--json");
    assert.equal(status.code, 0, status.stderr);
    const nodes = (JSON.parse(status.stdout) as { nodes: StatusNode[] }).nodes;
    const plain = node(nodes, "plain");
    assert.deepEqual([plain?.kind, plain?.state, plain?.tier, plain?.url], ["openai", "ready", 0, server.url]);
    assert.deepEqual(plain?.models.map((m) => m.id), [TEST_MODEL_ID]);
    const fromFile = node(nodes, "from-file");
    assert.deepEqual([fromFile?.kind, fromFile?.tier, fromFile?.labels], ["openai", 2, { source: "file" }]);

    const table = await cli("cluster", "status");
    assert.match(table.stdout, /^plain\s+0\s+default\s+openai server\s+stories260K\s+ready/m);
  });

  test("another flotilla as an agentless node is listed with the context window it really runs", async () => {
    // The truth: the serving flotilla's own node, as its own status shows it.
    const own = await fetchClusterStatus(server.url, server.adminKey);
    const runs = own.nodes[0]?.models[0]?.contextSize;
    assert.ok(runs !== undefined && runs !== 4096, `the test model runs a window other than the 4096 assumed: ${runs}`);
    const seen = (await fetchClusterStatus(coordinator.url, adminEnv.FLOTILLA_ADMIN_KEY ?? "")).nodes.find((n) => n.name === "plain")?.models[0];
    assert.equal(seen?.contextSize, runs);
    assert.equal(seen?.contextSizeAssumed, undefined, "reported, not assumed");
  });

  test("the OpenAI client through the coordinator is answered by the agentless node, streamed or not", async () => {
    // Only `plain` takes work while the file's node is drained.
    const drained = await cli("cluster", "drain", "from-file");
    assert.equal(drained.code, 0, drained.stderr);
    assert.equal(node(await apiStatus(), "from-file")?.state, "draining");
    try {
      const client = new OpenAI({ baseURL: `${coordinator.url}/v1`, apiKey: "unused", maxRetries: 0 });
      assert.deepEqual((await client.models.list()).data.map((m) => m.id), [TEST_MODEL_ID]);
      const messages = [{ role: "user" as const, content: "Tell me a story" }];
      const whole = await client.chat.completions.create({ model: TEST_MODEL_ID, messages, max_tokens: 5, seed: 7 });
      assert.equal(whole.usage?.completion_tokens, 5);
      assert.ok((whole.usage?.prompt_tokens ?? 0) > 0);
      assert.equal(whole.choices[0]?.finish_reason, "length");

      let streamed = "";
      let usage: OpenAI.CompletionUsage | undefined;
      const stream = await client.chat.completions.create({
        model: TEST_MODEL_ID,
        messages,
        max_tokens: 5,
        seed: 7,
        stream: true,
        stream_options: { include_usage: true },
      });
      for await (const chunk of stream) {
        streamed += chunk.choices[0]?.delta.content ?? "";
        usage = chunk.usage ?? usage;
      }
      assert.equal(usage?.completion_tokens, 5);
      assert.equal(streamed, whole.choices[0]?.message.content);

      const completion = await client.completions.create({ model: TEST_MODEL_ID, prompt: "Once upon", max_tokens: 4, seed: 3 });
      assert.equal(completion.usage?.completion_tokens, 4);

      // Tools and a response format are passed through: the server behind holds them to their grammars.
      const tool = { type: "function" as const, function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string", maxLength: 20 } }, required: ["city"], additionalProperties: false } } };
      const calling = client.chat.completions.stream({ model: TEST_MODEL_ID, messages, tools: [tool], tool_choice: "required", max_tokens: 200, seed: 7 });
      const called = await calling.finalChatCompletion();
      const call = called.choices[0]?.message.tool_calls?.[0];
      assert.ok(call?.type === "function" && call.function.name === "get_weather", JSON.stringify(called.choices[0]?.message));
      assert.equal(typeof (JSON.parse(call.function.arguments) as { city: unknown }).city, "string");
      assert.equal(called.choices[0]?.finish_reason, "tool_calls");
      const schema = { type: "object", properties: { mood: { enum: ["happy", "sad"] } }, required: ["mood"], additionalProperties: false };
      const shaped = await client.chat.completions.create({ model: TEST_MODEL_ID, messages, response_format: { type: "json_schema", json_schema: { name: "m", schema } }, max_tokens: 50, seed: 7 });
      assert.match(JSON.parse(shaped.choices[0]?.message.content ?? "").mood as string, /^(happy|sad)$/);
    } finally {
      const undrained = await cli("cluster", "undrain", "from-file");
      assert.equal(undrained.code, 0, undrained.stderr);
    }
  });

  test("refused: an address outside the allowlist, a file: URL, a taken name, removing the file's node", async () => {
    for (const url of ["http://8.8.8.8:11434", "file:///etc/passwd"]) {
      const res = await addNode({ url, kind: "ollama" });
      assert.equal(res.status, 400, url);
      const body = (await res.json()) as { error: { param: string; message: string } };
      assert.equal(body.error.param, "url", body.error.message);
    }
    const outside = await cli("cluster", "add", "http://8.8.8.8:11434");
    assert.equal(outside.code, 1);
    assert.match(outside.stderr, /400: url refused: 8\.8\.8\.8 is outside the allowed networks/);

    const again = await cli("cluster", "add", server.url, "--name", "plain");
    assert.equal(again.code, 1);
    assert.match(again.stderr, /409: a node named plain already exists/);

    const removeFileNode = await cli("cluster", "remove", "from-file");
    assert.equal(removeFileNode.code, 1);
    assert.match(removeFileNode.stderr, /400: from-file is declared in the cluster file/);
  });

  test("a node added through the API is still there after the coordinator restarts", async () => {
    const port = Number(new URL(coordinator.url).port);
    await coordinator.stop();
    coordinator = await startCoordinator(port);
    await waitFor("both ready after restart", (nodes) => ["plain", "from-file"].every((name) => node(nodes, name)?.state === "ready"));
  });

  test("when the server stops, both nodes go down: the model is no longer offered, and asking for it gets 503", async () => {
    await server.stop();
    const stoppedAt = Date.now();
    const nodes = await waitFor("both down", (n) => ["plain", "from-file"].every((name) => node(n, name)?.state === "down"));
    assert.ok(Date.now() - stoppedAt < BEAT_MS * 3 + 2_000, "down within the TTL (plus polling)");
    assert.match(node(nodes, "plain")?.error ?? "", /node plain could not be reached/);
    const client = new OpenAI({ baseURL: `${coordinator.url}/v1`, apiKey: "unused", maxRetries: 0 });
    assert.deepEqual((await client.models.list()).data, []);
    // The cluster knows the model but no node that serves it is up: 503 and
    // Retry-After (clients retry), not 404 (which says it does not exist).
    await assert.rejects(
      client.chat.completions.create({ model: TEST_MODEL_ID, messages: [{ role: "user", content: "Hi" }], max_tokens: 2 }),
      (err: unknown) => {
        const headers: unknown = err instanceof OpenAI.APIError ? err.headers : undefined;
        return err instanceof OpenAI.APIError && err.status === 503 && headers instanceof Headers && headers.get("retry-after") === "1";
      },
    );
  });

  test("`cluster remove` forgets a node added through the API", async () => {
    const removed = await cli("cluster", "remove", "plain");
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual((await apiStatus()).map((n) => n.name), ["from-file"]);
  });

  test("a cluster file with an invalid node stops the coordinator with exit 2, naming the field and line", { timeout: 60_000 }, async () => {
    const bad = path.join(dir, "bad.yaml");
    await writeFile(bad, ["nodes:", "  - name: box", "    url: http://10.0.0.5:8000", "    tier: 7", ""].join("\n"));
    const run = await runCli(["coordinator", "--port", "0", "--cluster-file", bad], { FLOTILLA_DATA_DIR: path.join(dir, "bad-run") });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /^flotilla: nodes\[0\]\.tier: .*\(from .*bad\.yaml:4\)$/m);
  });
});
