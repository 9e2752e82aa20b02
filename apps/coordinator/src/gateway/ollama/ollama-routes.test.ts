// /api in-process, through the real coordinator (router, dispatcher, error
// handler) over a stand-in node, named as such: the story model of the e2e
// tests never chooses to call a tool (Ollama has no tool_choice to make it),
// and a real node cannot be made to fail half-way on demand. The stand-in
// keeps the node contract: chunks in order, then the result they add up to.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { FlotillaError, type InferenceNode, type NodeStatus, type RunOptions, type Workload, type WorkloadResult } from "@flotilla/protocol";
import { createCoordinator, type Coordinator } from "../../index.ts";
import { DEFAULT_ALLOWED_NETWORKS } from "../../config/url-policy.ts";
import { testNode } from "../../router/test-nodes.ts";

/** A stand-in node: "caller" calls get_weather in two pieces; "breaker" fails after its first text. */
class StandInNode implements InferenceNode {
  readonly name = "stand-in";

  status(): NodeStatus {
    const capabilities = ["chat", "tools", "json"] as const;
    return testNode(this.name, {
      models: [
        { id: "caller", contextSize: 4096, loadedAtMs: 0, slots: { total: 4, busy: 0, queued: 0 }, capabilities: [...capabilities] },
        { id: "breaker", contextSize: 4096, loadedAtMs: 0, slots: { total: 4, busy: 0, queued: 0 }, capabilities: [...capabilities] },
      ],
    });
  }

  async run(workload: Workload, options: RunOptions): Promise<WorkloadResult> {
    await Promise.resolve();
    if (workload.model === "breaker") {
      options.onChunk?.({ type: "text", text: "Once", tokens: 1 });
      throw new FlotillaError("context_length_exceeded", "the node ran out of context half-way");
    }
    options.onChunk?.({ type: "text", text: "Let me look.", tokens: 3 });
    options.onChunk?.({ type: "tool_call", index: 0, id: "call_abc", name: "get_weather", argumentsDelta: '{"city":' });
    options.onChunk?.({ type: "tool_call", index: 0, argumentsDelta: '"Oslo"}' });
    return {
      kind: "generation",
      text: "Let me look.",
      finishReason: "tool_calls",
      toolCalls: [{ id: "call_abc", name: "get_weather", arguments: '{"city":"Oslo"}' }],
      promptTokens: 11,
      completionTokens: 9,
    };
  }
}

const TOOLS = [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }];

describe("/api over a stand-in node", () => {
  let dataDir: string;
  let coordinator: Coordinator;

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "flotilla-ollama-routes-"));
    coordinator = await createCoordinator({
      dataDir,
      adminKeyFromEnv: undefined,
      bodyLimitBytes: 1024 * 1024,
      heartbeatIntervalMs: 60_000,
      allowedNetworks: DEFAULT_ALLOWED_NETWORKS,
      logger: pino({ level: "silent" }),
    });
    coordinator.registry.add(new StandInNode());
  });
  after(async () => {
    await coordinator.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const chat = (body: object) => coordinator.app.inject({ method: "POST", url: "/api/chat", payload: { messages: [{ role: "user", content: "Weather in Oslo?" }], tools: TOOLS, ...body } });

  test("a tool call, not streamed: arguments as an object, done_reason stop, the node in the headers", async () => {
    const res = await chat({ model: "caller", stream: false });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers["x-flotilla-node"], "stand-in");
    const body = res.json<{ message: unknown; done_reason: string; eval_count: number; prompt_eval_count: number }>();
    assert.deepEqual(body.message, { role: "assistant", content: "Let me look.", tool_calls: [{ function: { name: "get_weather", arguments: { city: "Oslo" } } }] });
    assert.equal(body.done_reason, "stop");
    assert.deepEqual([body.prompt_eval_count, body.eval_count], [11, 9]);
  });

  test("a tool call, streamed: the text, then the call whole in a line of its own, then the last line", async () => {
    const res = await chat({ model: "caller:latest" });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers["content-type"], "application/x-ndjson");
    const lines = res.body.trim().split("\n").map((l) => JSON.parse(l) as { model: string; message: unknown; done: boolean; done_reason?: string });
    assert.deepEqual(lines.map((l) => [l.model, l.message, l.done]), [
      ["caller:latest", { role: "assistant", content: "Let me look." }, false],
      ["caller:latest", { role: "assistant", content: "", tool_calls: [{ function: { name: "get_weather", arguments: { city: "Oslo" } } }] }, false],
      ["caller:latest", { role: "assistant", content: "" }, true],
    ]);
    assert.equal(lines.at(-1)?.done_reason, "stop");
  });

  test("a failure after the stream began: one more line, {\"error\": ...}", async () => {
    const res = await chat({ model: "breaker" });
    assert.equal(res.statusCode, 200);
    const lines = res.body.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.at(-1), { error: "the node ran out of context half-way" });
    assert.equal((lines[0]?.message as { content: string }).content, "Once");
  });

  test("a failure before any text, not streamed: its status, Ollama's shape", async () => {
    const res = await chat({ model: "breaker", stream: false });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), { error: "the node ran out of context half-way" });
  });

  test("wrong method, unknown path, model management: Ollama's shape, with Allow on a 405", async () => {
    const wrong = await coordinator.app.inject({ method: "GET", url: "/api/chat" });
    assert.equal(wrong.statusCode, 405);
    assert.equal(wrong.headers.allow, "POST");
    assert.deepEqual(Object.keys(wrong.json<object>()), ["error"]);
    const pull = await coordinator.app.inject({ method: "POST", url: "/api/pull", payload: { model: "llama3" } });
    assert.equal(pull.statusCode, 404);
    assert.match(pull.json<{ error: string }>().error, /set by each node's configuration/);
    const v1 = await coordinator.app.inject({ method: "GET", url: "/v1/nothing" });
    assert.equal(typeof v1.json<{ error: unknown }>().error, "object", "/v1 keeps OpenAI's shape");
  });
});
