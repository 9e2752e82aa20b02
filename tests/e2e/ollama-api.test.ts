// Ollama's API on the coordinator, checked with the official `ollama` npm
// client against real processes serving the real test model: `flotilla up`
// (the in-process agent), and a coordinator with a joined agent, whose model
// details come by heartbeat and whose /api/show facts come from the agent on
// demand. What a user of an Ollama client sees: the model listed with its
// details, shown, running on a named node; chat and generate, streamed and
// not, with true counts and measured durations; embeddings; Ollama's errors.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Ollama, type ChatResponse, type GenerateResponse } from "ollama";
import {
  runCli,
  startCoordinator,
  startFlotilla,
  testModelPath,
  TEST_MODEL_ID,
  TEST_MODEL_SHA256,
  waitForClusterStatus,
  type FlotillaProcess,
} from "@flotilla/testkit";

/** Ollama's names carry a tag; flotilla's model ids need none (docs/adr/0032). */
const OLLAMA_NAME = `${TEST_MODEL_ID}:latest`;
const norm = (v: readonly number[]): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

/** The digest is computed in the background after start: ask until it is there (or the test's timeout). */
async function listedWithDigest(client: Ollama): Promise<Awaited<ReturnType<Ollama["list"]>>> {
  for (;;) {
    const list = await client.list();
    if (list.models.every((m) => m.digest !== "")) return list;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function assertMeasured(answer: ChatResponse | GenerateResponse, predicted: number): void {
  assert.equal(answer.done, true);
  assert.equal(answer.eval_count, predicted, "eval_count is the tokens generated");
  assert.ok(answer.prompt_eval_count > 0, "prompt_eval_count is the prompt's tokens");
  for (const key of ["total_duration", "prompt_eval_duration", "eval_duration"] as const) {
    assert.ok(Number.isInteger(answer[key]) && answer[key] > 0, `${key} is a positive number of nanoseconds: ${answer[key]}`);
  }
  assert.equal(answer.load_duration, 0, "nothing is loaded for a request: models are pinned");
  assert.ok(answer.total_duration >= answer.prompt_eval_duration + answer.eval_duration);
}

describe("the ollama client against flotilla up", () => {
  let fl: FlotillaProcess;
  let client: Ollama;
  let key: string;
  let modelFile: string;

  before(async () => {
    modelFile = await testModelPath();
    fl = await startFlotilla({ args: ["--model", modelFile] });
    // With a key in existence, /api needs it exactly as /v1 does.
    const res = await fetch(`${fl.url}/cluster/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${fl.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "ollama-client" }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    ({ key } = (await res.json()) as { key: string });
    client = new Ollama({ host: fl.url, headers: { authorization: `Bearer ${key}` } });
  });
  after(async () => {
    await fl.stop();
  });

  test("list: the model with its details read from the GGUF file, its size and sha256", async () => {
    const { models } = await listedWithDigest(client);
    const { size } = await stat(modelFile);
    assert.deepEqual(
      models.map((m) => ({ name: m.name, model: m.model, size: m.size, digest: m.digest, details: m.details })),
      [
        {
          name: OLLAMA_NAME,
          model: OLLAMA_NAME,
          size,
          digest: TEST_MODEL_SHA256,
          details: { parent_model: "", format: "gguf", family: "llama", families: ["llama"], parameter_size: "293K", quantization_level: "F32" },
        },
      ],
    );
    assert.ok(!Number.isNaN(Date.parse(String(models[0]?.modified_at))));
  });

  test("show: parameters, model_info from the GGUF metadata, capabilities; a name with :latest finds it", async () => {
    const shown = await client.show({ model: `${TEST_MODEL_ID}:latest` });
    const info = shown.model_info as unknown as Record<string, unknown>;
    assert.equal(info["general.architecture"], "llama");
    assert.equal(info["llama.context_length"], 2048);
    assert.equal(info["llama.embedding_length"], 64);
    assert.equal(info["general.parameter_count"], 292_800);
    assert.match(shown.parameters, /^num_ctx\s+\d+$/m);
    assert.match(shown.modelfile, new RegExp(`^FROM ${TEST_MODEL_ID}$`, "m"));
    assert.equal(shown.details.family, "llama");
    assert.ok(shown.capabilities.includes("completion") && shown.capabilities.includes("embedding"), shown.capabilities.join(","));
  });

  test("ps: the loaded model, the node that holds it, and no expiry", async () => {
    const { models } = await client.ps();
    assert.equal(models.length, 1);
    const running = models[0] as unknown as { name: string; size: number; expires_at: string; flotilla: { node: string; kind: string } };
    assert.equal(running.name, OLLAMA_NAME);
    assert.equal(running.flotilla.kind, "local");
    assert.equal(typeof running.flotilla.node, "string");
    assert.ok(Date.parse(running.expires_at) > Date.now() + 100 * 365 * 86_400_000, running.expires_at);
    assert.ok(running.size > 0);
  });

  test("chat, not streamed and streamed: the same text for the same seed, true counts, measured durations", async () => {
    // The name the list gave, as a user picks it.
    const request = { model: OLLAMA_NAME, messages: [{ role: "user", content: "Tell me a story about a cat." }], options: { num_predict: 16, seed: 42, temperature: 0 } };
    const whole = await client.chat({ ...request, stream: false });
    assert.equal(whole.model, OLLAMA_NAME);
    assert.equal(whole.message.role, "assistant");
    assert.ok(whole.message.content.length > 0);
    assert.equal(whole.done_reason, "length");
    assertMeasured(whole, 16);

    const parts: ChatResponse[] = [];
    for await (const part of await client.chat({ ...request, stream: true })) parts.push(part);
    const last = parts.at(-1);
    assert.ok(last);
    assert.ok(parts.length > 2, "text arrives in pieces");
    assert.ok(parts.slice(0, -1).every((p) => !p.done));
    assert.equal(parts.map((p) => p.message.content).join(""), whole.message.content);
    assert.equal(last.done_reason, "length");
    assertMeasured(last, 16);
    assert.equal(last.prompt_eval_count, whole.prompt_eval_count);
  });

  test("generate, not streamed and streamed, and raw: true counts, measured durations", async () => {
    const whole = await client.generate({ model: TEST_MODEL_ID, prompt: "Once upon a time", stream: false, options: { num_predict: 12, seed: 3, temperature: 0 } });
    assert.ok((whole.response ?? "").length > 0);
    assertMeasured(whole, 12);

    const parts: GenerateResponse[] = [];
    for await (const part of await client.generate({ model: TEST_MODEL_ID, prompt: "Once upon a time", stream: true, options: { num_predict: 12, seed: 3, temperature: 0 } })) parts.push(part);
    const last = parts.at(-1);
    assert.ok(last);
    assert.equal(parts.map((p) => p.response).join(""), whole.response);
    assertMeasured(last, 12);

    const raw = await client.generate({ model: TEST_MODEL_ID, prompt: "Once upon a time", raw: true, stream: false, options: { num_predict: 5 } });
    assertMeasured(raw, 5);
    assert.ok(raw.prompt_eval_count < whole.prompt_eval_count, "raw skips the template around the prompt");
  });

  test("a stop sequence ends the answer before it, with done_reason stop", async () => {
    const options = { num_predict: 40, seed: 5, temperature: 0 };
    const full = await client.generate({ model: TEST_MODEL_ID, prompt: "Once upon a time", raw: true, stream: false, options });
    const fullText = full.response ?? "";
    const word = fullText.trim().split(/\s+/)[2];
    assert.ok(word !== undefined && word.length > 1, `the model wrote a few words: ${fullText}`);
    const stopped = await client.generate({ model: TEST_MODEL_ID, prompt: "Once upon a time", raw: true, stream: false, options: { ...options, stop: [word] } });
    assert.equal(stopped.done_reason, "stop");
    const stoppedText = stopped.response ?? "";
    assert.ok(!stoppedText.includes(word));
    assert.ok(fullText.startsWith(stoppedText));
  });

  test("format: a JSON Schema holds the answer to it, streamed or not; json gives a JSON object", async () => {
    const schema = { type: "object", properties: { name: { type: "string", maxLength: 12 }, age: { type: "integer" } }, required: ["name", "age"], additionalProperties: false };
    const whole = await client.chat({ model: OLLAMA_NAME, messages: [{ role: "user", content: "A cat, as JSON." }], format: schema, stream: false, options: { num_predict: 200, seed: 2 } });
    const parsed = JSON.parse(whole.message.content) as { name: unknown; age: unknown };
    assert.deepEqual(Object.keys(parsed).sort(), ["age", "name"]);
    assert.ok(typeof parsed.name === "string" && Number.isInteger(parsed.age), whole.message.content);
    let streamed = "";
    for await (const part of await client.chat({ model: OLLAMA_NAME, messages: [{ role: "user", content: "A cat, as JSON." }], format: schema, stream: true, options: { num_predict: 200, seed: 2 } })) streamed += part.message.content;
    assert.equal(streamed, whole.message.content);
    const json = await client.generate({ model: OLLAMA_NAME, prompt: "Some JSON", format: "json", stream: false, options: { num_predict: 100, seed: 4 } });
    const object: unknown = JSON.parse(json.response ?? "");
    assert.ok(typeof object === "object" && object !== null && !Array.isArray(object), json.response);
  });

  test("tools: offered in Ollama's shape; a call and its result in the history are answered in text", async () => {
    const tools = [{ type: "function", function: { name: "get_weather", description: "The weather in a city now", parameters: { type: "object", properties: { city: { type: "string", maxLength: 24 } }, required: ["city"] } } }];
    // The story model chooses for itself whether to call (Ollama has no tool_choice): either shape must be whole.
    const first = await client.chat({ model: OLLAMA_NAME, messages: [{ role: "user", content: "What is the weather in Paris?" }], tools, stream: false, options: { num_predict: 60, seed: 1 } });
    assert.equal(first.done, true);
    for (const call of first.message.tool_calls ?? []) {
      assert.equal(call.function.name, "get_weather");
      assert.equal(typeof call.function.arguments.city, "string");
    }
    const answer = await client.chat({
      model: OLLAMA_NAME,
      tools,
      stream: false,
      options: { num_predict: 10, seed: 1 },
      messages: [
        { role: "user", content: "What is the weather in Paris?" },
        { role: "assistant", content: "", tool_calls: [{ function: { name: "get_weather", arguments: { city: "Paris" } } }] },
        { role: "tool", content: JSON.stringify({ celsius: 3, sky: "rain" }), tool_name: "get_weather" },
      ],
    });
    assert.equal(answer.done, true);
    assert.ok(answer.prompt_eval_count > first.prompt_eval_count, "the call and its result were part of the prompt");
  });

  test("embed and the older embeddings: unit vectors, the same text the same vector, real token counts", async () => {
    const embedded = await client.embed({ model: TEST_MODEL_ID, input: ["Tom found a red ball.", "Tom found a red ball.", "The sun was hot."] });
    assert.equal(embedded.model, TEST_MODEL_ID, "the name as the client said it");
    assert.equal(embedded.embeddings.length, 3);
    const [a, b, c] = embedded.embeddings as [number[], number[], number[]];
    for (const v of [a, b, c]) assert.ok(Math.abs(norm(v) - 1) < 1e-6);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.ok(embedded.prompt_eval_count > 0);
    assert.ok(embedded.total_duration > 0);
    const older = await client.embeddings({ model: TEST_MODEL_ID, prompt: "Tom found a red ball." });
    assert.deepEqual(older.embedding, a);
  });

  test("an unknown model: Ollama's 404 and words, which the client throws as its message", async () => {
    for (const call of [
      () => client.chat({ model: "no-such-model", messages: [{ role: "user", content: "hi" }], stream: false }),
      () => client.generate({ model: "no-such-model", prompt: "hi", stream: false }),
      () => client.show({ model: "no-such-model" }),
      () => client.embed({ model: "no-such-model", input: "hi" }),
    ]) {
      await assert.rejects(call, (err: Error & { status_code?: number }) => {
        assert.equal(err.message, 'model "no-such-model" not found, try pulling it first');
        assert.equal(err.status_code, 404);
        return true;
      });
    }
    // Streamed, the error comes before the stream starts: still a 404 with its message.
    await assert.rejects(
      async () => {
        for await (const _ of await client.chat({ model: "no-such-model", messages: [{ role: "user", content: "hi" }], stream: true })) break;
      },
      { message: 'model "no-such-model" not found, try pulling it first' },
    );
  });

  test("a bad body: 400 naming the field, in Ollama's shape", async () => {
    await assert.rejects(
      () => client.chat({ model: TEST_MODEL_ID, messages: [{ role: "user", content: "hi" }], stream: false, options: { temperature: 5 } }),
      (err: Error & { status_code?: number }) => {
        assert.equal(err.status_code, 400);
        assert.match(err.message, /^options\.temperature: /);
        return true;
      },
    );
  });

  test("the same metrics as /v1: the requests made through /api are counted by node, model and outcome", async () => {
    const res = await fetch(`${fl.url}/metrics`, { headers: { authorization: `Bearer ${fl.adminKey}` } });
    const text = await res.text();
    const ok = text.split("\n").filter((l) => l.startsWith("flotilla_requests_total{") && l.includes(`model="${TEST_MODEL_ID}"`) && l.includes('outcome="ok"'));
    const counted = ok.reduce((n, l) => n + Number(l.split(" ").at(-1)), 0);
    assert.ok(counted >= 10, `requests counted: ${counted}\n${ok.join("\n")}`);
  });

  test("a missing or wrong key: 401 with a message, not [object Object]; the version stays public", async () => {
    for (const headers of [{}, { authorization: "Bearer not-a-key" }]) {
      const stranger = new Ollama({ host: fl.url, headers });
      await assert.rejects(() => stranger.list(), (err: Error & { status_code?: number }) => {
        assert.equal(err.status_code, 401);
        assert.match(err.message, /API key/);
        return true;
      });
      assert.equal(typeof (await stranger.version()).version, "string");
    }
  });
});

describe("the ollama client against a coordinator with a joined agent", () => {
  let dir: string;
  let coordinator: FlotillaProcess;
  let agent: FlotillaProcess;
  let client: Ollama;
  let admin: string;

  before(async () => {
    const model = await testModelPath();
    dir = await mkdtemp(path.join(tmpdir(), "flotilla-ollama-"));
    let adminKey: string;
    ({ coordinator, adminKey } = await startCoordinator({ dir, label: "ollama", heartbeatIntervalMs: 250, clusterFile: [] }));
    const token = await runCli(["token", "create"], { FLOTILLA_ADMIN_KEY: adminKey, FLOTILLA_URL: coordinator.url });
    assert.equal(token.code, 0, token.stderr);
    agent = await startFlotilla({
      command: "agent",
      dataDir: path.join(dir, "agent"),
      args: ["--join", coordinator.url, "--token", token.stdout.trim(), "--name", "desk", "--model", model, "--heartbeat-interval-ms", "250"],
    });
    await waitForClusterStatus(coordinator.url, adminKey, "the agent ready", (s) => s.nodes.some((n) => n.name === "desk" && n.state === "ready"));
    client = new Ollama({ host: coordinator.url, headers: { authorization: `Bearer ${adminKey}` } });
    admin = adminKey;
  });
  after(async () => {
    await agent.stop();
    await coordinator.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("details travel by heartbeat; /api/show asks the agent for the metadata; ps names the node", async () => {
    const { models } = await listedWithDigest(client);
    assert.deepEqual(models.map((m) => [m.name, m.digest, m.details.family, m.details.quantization_level]), [[OLLAMA_NAME, TEST_MODEL_SHA256, "llama", "F32"]]);
    const shown = await client.show({ model: TEST_MODEL_ID });
    const info = shown.model_info as unknown as Record<string, unknown>;
    assert.equal(info["llama.block_count"], 5, "the agent's GGUF metadata, fetched from it");
    const running = (await client.ps()).models as unknown as { flotilla: { node: string; kind: string } }[];
    assert.deepEqual(running.map((r) => [r.flotilla.node, r.flotilla.kind]), [["desk", "agent"]]);
  });

  test("an agentless Ollama server's /api/tags details are passed through to the node's status", async () => {
    // Another flotilla's /api stands in for Ollama (none can be installed here).
    const box = await startFlotilla({ args: ["--model", await testModelPath()] });
    try {
      const added = await fetch(`${coordinator.url}/cluster/nodes`, {
        method: "POST",
        headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "box", url: box.url, kind: "ollama", tier: 0 }),
      });
      assert.equal(added.status, 201, await added.text());
      const status = await waitForClusterStatus(coordinator.url, admin, "box ready", (s) => s.nodes.some((n) => n.name === "box" && n.state === "ready" && n.models[0]?.details?.digest !== undefined));
      const details = status.nodes.find((n) => n.name === "box")?.models[0]?.details;
      assert.deepEqual([details?.family, details?.quantizationLevel, details?.digest], ["llama", "F32", TEST_MODEL_SHA256]);
      assert.equal(details?.sizeBytes, (await stat(await testModelPath())).size);
      const removed = await fetch(`${coordinator.url}/cluster/nodes/box`, { method: "DELETE", headers: { authorization: `Bearer ${admin}` } });
      assert.ok(removed.ok);
    } finally {
      await box.stop();
    }
  });

  test("a chat through the coordinator streams from the agent with its counts", async () => {
    const parts: ChatResponse[] = [];
    for await (const part of await client.chat({ model: TEST_MODEL_ID, messages: [{ role: "user", content: "Hi" }], stream: true, options: { num_predict: 8 } })) parts.push(part);
    const last = parts.at(-1);
    assert.ok(last);
    assertMeasured(last, 8);
  });
});
