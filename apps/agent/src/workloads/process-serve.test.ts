// A process template with `serve`, on real parts: the fixture OpenAI-compatible
// server (fixtures/openai-server.ts, run by this node) provisioned through
// the ProcessDriver, and a real Agent serving its models.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { embeddingResultOf, FlotillaError, type Chunk, type GenerationRequest } from "@flotilla/protocol";
import { Agent } from "../agent.ts";
import { ProcessDriver } from "./process-driver.ts";
import { processTemplate, type ProcessTemplate } from "./template-config.ts";
import type { WorkloadLog } from "./workload-driver.ts";
import { freePort } from "@flotilla/testkit";

const FIXTURE = fileURLToPath(new URL("./fixtures/openai-server.ts", import.meta.url));
const silent: WorkloadLog = { debug: () => {}, info: () => {}, warn: () => {} };
const never = () => new AbortController().signal;

interface Served {
  agent: Agent;
  driver: ProcessDriver;
  url: (p: string) => string;
  [Symbol.asyncDispose]: () => Promise<void>;
}

async function serving(extraArgs: string[] = []): Promise<Served> {
  const port = await freePort();
  const template: ProcessTemplate = processTemplate.parse({
    driver: "process",
    command: [process.execPath, FIXTURE, String(port), ...extraArgs],
    health: `http://127.0.0.1:${port}/health`,
    startTimeoutMs: 10_000,
    stopGraceMs: 2_000,
    serve: {
      url: `http://127.0.0.1:${port}`,
      models: [
        { id: "qwen-small", capabilities: ["chat", "json", "tools"], contextSize: 8192, slots: 2, upstreamModel: "x.gguf" },
        { id: "embedder", capabilities: ["embed"] },
      ],
    },
  });
  const agent = new Agent({ maxQueued: 4, maxWaitMs: 5_000 });
  const driver = new ProcessDriver({ name: "openai", template, path: process.env.PATH, log: silent, agent, drainMs: 1_000 });
  await driver.provision(never(), () => {});
  return {
    agent,
    driver,
    url: (p) => `http://127.0.0.1:${port}${p}`,
    [Symbol.asyncDispose]: async () => {
      await driver.stop();
      await agent.close();
    },
  };
}

function chat(content: string, params: Partial<GenerationRequest["params"]> = {}): GenerationRequest {
  return { model: "qwen-small", input: { kind: "chat", messages: [{ role: "system", content: "be brief" }, { role: "user", content }] }, params: { stop: [], ...params } };
}

const requestsOf = async (s: Served) => (await (await fetch(s.url("/requests"))).json()) as { url: string; body: Record<string, unknown> }[];

test("once healthy its models are served by the agent, with their window, slots and capabilities", async () => {
  await using s = await serving();
  const models = s.agent.load().models.map((m) => ({ id: m.id, contextSize: m.contextSize, total: m.slots.total, capabilities: m.capabilities }));
  assert.deepEqual(models, [
    { id: "qwen-small", contextSize: 8192, total: 2, capabilities: ["chat", "json", "tools"] },
    { id: "embedder", contextSize: 4096, total: 1, capabilities: ["embed"] },
  ]);
});

test("a chat workload streams the program's text through onChunk and ends with its usage", async () => {
  await using s = await serving();
  const chunks: Chunk[] = [];
  const result = await s.agent.run(chat("hello there", { temperature: 0.5, topP: 0.9, seed: 7, maxTokens: 20, stop: ["\n"], responseFormat: { type: "json" } }), {
    signal: never(),
    onChunk: (c) => chunks.push(c),
  });
  assert.deepEqual(result, { kind: "generation", text: "echo: hello there", finishReason: "stop", promptTokens: 7, completionTokens: 3 });
  assert.deepEqual(chunks, [
    { type: "text", text: "echo:", tokens: 1 },
    { type: "text", text: " hello", tokens: 1 },
    { type: "text", text: " there", tokens: 1 },
  ]);
  const [sent] = await requestsOf(s);
  assert.equal(sent?.url, "/v1/chat/completions");
  assert.deepEqual(sent?.body, {
    model: "x.gguf",
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: 20,
    temperature: 0.5,
    top_p: 0.9,
    seed: 7,
    stop: ["\n"],
    messages: [
      { role: "system", content: "be brief" },
      { role: "user", content: "hello there" },
    ],
    response_format: { type: "json_object" },
  });
});

test("a completion workload goes to /v1/completions; without a usage chunk the events are counted", async () => {
  await using s = await serving(["--no-usage"]);
  const workload: GenerationRequest = { model: "qwen-small", input: { kind: "completion", prompt: "once upon" }, params: { stop: [] } };
  const result = await s.agent.run(workload, { signal: never() });
  assert.deepEqual(result, { kind: "generation", text: "completion of once upon", finishReason: "stop", promptTokens: 0, completionTokens: 4 });
  assert.equal((await requestsOf(s))[0]?.url, "/v1/completions");
});

test("an embedding workload answers a unit vector per item, in the order asked", async () => {
  await using s = await serving();
  const result = embeddingResultOf(await s.agent.run({ model: "embedder", input: { kind: "embedding", items: ["abc", "abcdefg"] } }, { signal: never() }));
  assert.equal(result.vectors.length, 2);
  assert.ok(Math.abs((result.vectors[0]?.[0] ?? 0) - 3 / Math.sqrt(10)) < 1e-9);
  assert.ok(Math.abs((result.vectors[1]?.[0] ?? 0) - 7 / Math.sqrt(50)) < 1e-9);
  assert.equal(result.promptTokens, 6);
});

test("the program's 400 arrives as rejected_by_node with its message; its 500 as backend_error", async () => {
  await using s = await serving();
  await assert.rejects(s.agent.run(chat("please FAIL400"), { signal: never() }), (err) => {
    assert.ok(err instanceof FlotillaError);
    assert.equal(err.code, "rejected_by_node");
    assert.equal(err.status, 400);
    assert.equal(err.message, "the fixture refuses FAIL400");
    return true;
  });
  await assert.rejects(s.agent.run(chat("please FAIL500"), { signal: never() }), (err) => err instanceof FlotillaError && err.code === "backend_error" && /HTTP 500: the fixture broke/.test(err.message));
});

test("a chat offered tools streams the program's tool call and ends with it", async () => {
  await using s = await serving();
  const chunks: Chunk[] = [];
  const workload: GenerationRequest = {
    model: "qwen-small",
    input: { kind: "chat", messages: [{ role: "user", content: "weather" }], tools: [{ name: "lookup", parameters: { type: "object" } }], toolChoice: { name: "lookup" } },
    params: { stop: [] },
  };
  const result = await s.agent.run(workload, { signal: never(), onChunk: (c) => chunks.push(c) });
  assert.deepEqual(result, {
    kind: "generation",
    text: "",
    finishReason: "tool_calls",
    toolCalls: [{ id: "call_1", name: "lookup", arguments: '{"q":"weather"}' }],
    promptTokens: 0,
    completionTokens: 0,
  });
  assert.deepEqual(chunks, [
    { type: "tool_call", index: 0, id: "call_1", name: "lookup", argumentsDelta: "" },
    { type: "tool_call", index: 0, argumentsDelta: '{"q":' },
    { type: "tool_call", index: 0, argumentsDelta: '"weather"}' },
  ]);
  const [sent] = await requestsOf(s);
  assert.deepEqual(sent?.body.tools, [{ type: "function", function: { name: "lookup", parameters: { type: "object" } } }]);
  assert.deepEqual(sent?.body.tool_choice, { type: "function", function: { name: "lookup" } });
});

test("aborting the signal mid-stream stops the upstream request", async () => {
  await using s = await serving();
  const controller = new AbortController();
  const reason = new Error("client went away");
  let texts = 0;
  const running = s.agent.run(chat("go SLOW"), {
    signal: controller.signal,
    onChunk: () => {
      if (++texts === 3) controller.abort(reason);
    },
  });
  await assert.rejects(running, (err) => err === reason);
  // The fixture sees its client go away (a stream it never finished).
  for (let i = 0; i < 100; i++) {
    const { aborted } = (await (await fetch(s.url("/aborted"))).json()) as { aborted: number };
    if (aborted === 1) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail("the fixture's stream was not aborted");
});

test("after stop() the agent no longer lists the models, and the program is gone", async () => {
  const s = await serving();
  await s.driver.stop();
  assert.deepEqual(s.agent.load().models, []);
  await assert.rejects(s.agent.run(chat("hi"), { signal: never() }), (err) => err instanceof FlotillaError && err.code === "model_not_found");
  await assert.rejects(fetch(s.url("/health")));
  await s.agent.close();
});

test("a model id another backend already serves fails the provisioning, and the program is stopped", async () => {
  const agent = new Agent({ maxQueued: 4, maxWaitMs: 5_000 });
  const make = async (name: string, ids: string[]) => {
    const port = await freePort();
    const template = processTemplate.parse({
      driver: "process",
      command: [process.execPath, FIXTURE, String(port)],
      health: `http://127.0.0.1:${port}/health`,
      serve: { url: `http://127.0.0.1:${port}/v1`, models: ids.map((id) => ({ id })) },
    });
    return { driver: new ProcessDriver({ name, template, path: process.env.PATH, log: silent, agent }), health: template.health };
  };
  const first = await make("a", ["two"]);
  await first.driver.provision(never(), () => {});
  const second = await make("b", ["one", "two"]);
  await assert.rejects(second.driver.provision(never(), () => {}), /two models are both named "two"/);
  assert.deepEqual(
    agent.load().models.map((m) => m.id),
    ["two"],
    "the clash left none of the second's models served",
  );
  await assert.rejects(fetch(second.health), "its program is stopped");
  await first.driver.stop();
  assert.deepEqual(agent.load().models, []);
  await agent.close();
});
