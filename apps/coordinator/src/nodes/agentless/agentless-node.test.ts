// An agentless node against small fake servers on loopback: the real HTTP
// client, the real streaming, each dialect end to end.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { once } from "node:events";
import { Agent } from "undici";
import { FlotillaError, generationResultOf, type GenerationRequest } from "@flotilla/protocol";
import { AgentlessNode, type AgentlessNodeSpec } from "./agentless-node.ts";
import { healthPolicy } from "../node-health.ts";
import { errorMessageOf, refusal, retryAfterSeconds } from "./node-http.ts";

const dispatcher = new Agent();
const servers: Server[] = [];
after(async () => {
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await dispatcher.close();
});

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: unknown;
}

async function fakeServer(handle: (req: IncomingMessage, res: ServerResponse, body: unknown) => void): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (text += c));
    req.on("end", () => {
      const body: unknown = text === "" ? undefined : JSON.parse(text);
      seen.push({ method: req.method ?? "", url: req.url ?? "", authorization: req.headers.authorization, body });
      handle(req, res, body);
    });
  });
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  assert.ok(address && typeof address === "object");
  return { url: `http://127.0.0.1:${address.port}`, seen };
}

/** A loopback port nothing listens on any more. */
async function closedPortUrl(): Promise<string> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  assert.ok(address && typeof address === "object");
  server.close();
  await once(server, "close");
  return `http://127.0.0.1:${address.port}`;
}

function node(spec: Partial<AgentlessNodeSpec> & { url: string }): AgentlessNode {
  return new AgentlessNode(
    { name: "box", kind: "openai", tier: 1, pool: "default", models: [], weight: 1, labels: {}, apiKey: undefined, ...spec },
    { origin: "api", drained: false, policy: healthPolicy(1_000), dispatcher, nowMs: Date.now },
  );
}

const chat: GenerationRequest = {
  model: "m",
  input: { kind: "chat", messages: [{ role: "user", content: "Hi" }] },
  params: { maxTokens: 2, temperature: undefined, topP: undefined, seed: undefined, stop: [], presencePenalty: undefined, frequencyPenalty: undefined },
};

const sse = (res: ServerResponse, events: string[]) => {
  res.writeHead(200, { "content-type": "text/event-stream" });
  for (const e of events) res.write(`data: ${e}\n\n`);
  res.end();
};

test("openai: a health check lists the models with the bearer token; a chat streams text and usage", async () => {
  const server = await fakeServer((req, res) => {
    if (req.url === "/v1/models") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ object: "list", data: [{ id: "m" }] }));
      return;
    }
    sse(res, [
      JSON.stringify({ choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] }),
      JSON.stringify({ choices: [{ index: 0, delta: { content: "Hel" }, finish_reason: null }] }),
      JSON.stringify({ choices: [{ index: 0, delta: { content: "lo" }, finish_reason: null }] }),
      JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: "length" }] }),
      JSON.stringify({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } }),
      "[DONE]",
    ]);
  });
  const n = node({ url: server.url, apiKey: "sk-box" });
  assert.equal(n.status(Date.now()).health, "down", "down until its first check");
  await n.checkHealth(1_000);
  const status = n.status(Date.now());
  assert.equal(status.health, "ready");
  assert.equal(status.kind, "openai");
  assert.deepEqual(
    status.models.map((m) => [m.id, m.contextSize, m.slots]),
    [["m", 4096, { total: 4, busy: 0, queued: 0 }]],
  );
  assert.equal(status.models[0]?.contextSizeAssumed, true, "the server said no window: 4096 is flotilla's guess, and status says so");
  assert.equal(status.error, undefined);

  const texts: string[] = [];
  const result = await n.run(chat, { signal: new AbortController().signal, onChunk: (c) => texts.push(c.type === "text" ? c.text : "") });
  assert.deepEqual(texts, ["Hel", "lo"]);
  assert.deepEqual(result, { kind: "generation", text: "Hello", finishReason: "length", promptTokens: 3, completionTokens: 2 });
  const post = server.seen.find((s) => s.method === "POST");
  assert.equal(post?.url, "/v1/chat/completions");
  assert.equal(post?.authorization, "Bearer sk-box");
  assert.equal(server.seen[0]?.authorization, "Bearer sk-box");
  assert.deepEqual((post?.body as { stream_options: unknown }).stream_options, { include_usage: true });
});

test("openai: a server that sends no usage gives counts of 0; one without [DONE] is fine once it finished", async () => {
  const server = await fakeServer((_req, res) => {
    sse(res, [JSON.stringify({ choices: [{ index: 0, text: "x", finish_reason: "stop" }] })]);
  });
  const result = await node({ url: server.url }).run(chat, { signal: new AbortController().signal });
  assert.deepEqual(result, { kind: "generation", text: "x", finishReason: "stop", promptTokens: 0, completionTokens: 0 });
});

test("ollama: /api/tags, then /api/chat streamed as NDJSON with the counts of its last line", async () => {
  const server = await fakeServer((req, res) => {
    if (req.url === "/ollama/api/tags") {
      res.writeHead(200).end(JSON.stringify({ models: [{ name: "llama3:latest" }, { name: "phi3:latest" }] }));
      return;
    }
    res.writeHead(200, { "content-type": "application/x-ndjson" });
    res.write('{"message":{"role":"assistant","content":"Hi"},"done":false}\n');
    res.write('{"message":{"role":"assistant","content":"!"},"done":false}\n');
    res.end('{"message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":7,"eval_count":2}\n');
  });
  const n = node({ url: `${server.url}/ollama`, kind: "ollama", models: ["llama3", "mistral"] });
  await n.checkHealth(1_000);
  const status = n.status(Date.now());
  assert.equal(status.health, "ready");
  assert.deepEqual(status.models.map((m) => m.id), ["llama3"]);
  assert.match(status.error ?? "", /does not serve the declared model\(s\) mistral/);
  const result = await n.run({ ...chat, model: "llama3" }, { signal: new AbortController().signal });
  assert.deepEqual(result, { kind: "generation", text: "Hi!", finishReason: "stop", promptTokens: 7, completionTokens: 2 });
  const post = server.seen.find((s) => s.method === "POST");
  assert.equal(post?.url, "/ollama/api/chat");
  assert.equal(post?.authorization, undefined, "no token configured, none sent");
  assert.deepEqual((post?.body as { options: unknown }).options, { num_predict: 2 });
});

test("a server's 4xx is the request's fault, passed on as it is; a stream cut short is the node's", async () => {
  const server = await fakeServer((req, res) => {
    if (req.url === "/v1/chat/completions") {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "model m not found" } }));
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.end(`data: ${JSON.stringify({ choices: [{ index: 0, text: "partial", finish_reason: null }] })}\n\n`);
  });
  const n = node({ url: server.url });
  await assert.rejects(n.run(chat, { signal: new AbortController().signal }), (err: unknown) => {
    assert.ok(err instanceof FlotillaError);
    assert.equal(err.code, "rejected_by_node");
    assert.equal(err.status, 404);
    assert.equal(err.message, "model m not found");
    assert.equal(err.retryable, false);
    assert.equal(err.nodeFault, false);
    return true;
  });
  const completion: GenerationRequest = { ...chat, input: { kind: "completion", prompt: "x" } };
  await assert.rejects(n.run(completion, { signal: new AbortController().signal }), /node box ended its answer without finishing it/);
  assert.equal(n.status(Date.now()).inFlight, 0, "in-flight counts go back down after failures");
});

test("an error event in the stream fails the generation with the server's message", async () => {
  const server = await fakeServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.end('error: {"code":500,"message":"the context is full","type":"server_error"}\n\n');
  });
  await assert.rejects(node({ url: server.url }).run(chat, { signal: new AbortController().signal }), /node box failed: .*the context is full/);
});

test("a failed health check is recorded; a server that does not answer times out", async () => {
  const unreachable = node({ url: await closedPortUrl() });
  await unreachable.checkHealth(1_000);
  assert.equal(unreachable.status(Date.now()).health, "down");
  assert.match(unreachable.status(Date.now()).error ?? "", /node box could not be reached/);

  const silent = await fakeServer(() => undefined);
  const hung = node({ url: silent.url });
  await hung.checkHealth(1_000);
  assert.equal(hung.status(Date.now()).error, "no answer to the health check within 1000 ms");

  const wrong = await fakeServer((_req, res) => res.writeHead(200).end("<html>router login</html>"));
  const notApi = node({ url: wrong.url });
  await notApi.checkHealth(1_000);
  assert.match(notApi.status(Date.now()).error ?? "", /model list is not JSON/);
  assert.doesNotMatch(notApi.status(Date.now()).error ?? "", /router login/, "what it said is not repeated");
});

test("a server that refuses the health check with 401 says why: no key sent, or the wrong one", async () => {
  const locked = await fakeServer((_req, res) => res.writeHead(401, { "content-type": "application/json" }).end('{"error":"no key"}'));
  const keyless = node({ url: locked.url });
  await keyless.checkHealth(1_000);
  assert.match(keyless.status(Date.now()).error ?? "", /^401 from the node: it needs a key; set apiKeyEnv/);
  const wrongKey = node({ url: locked.url, apiKey: "flt_wrong" });
  await wrongKey.checkHealth(1_000);
  assert.match(wrongKey.status(Date.now()).error ?? "", /^401 from the node: it refused the token from apiKeyEnv/);
  assert.doesNotMatch(wrongKey.status(Date.now()).error ?? "", /flt_wrong/, "the token itself is never shown");
});

test("while a generation runs it counts as a busy slot; aborting it closes the connection", async () => {
  let closed = false;
  const server = await fakeServer((req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "a" }, finish_reason: null }] })}\n\n`);
    res.on("close", () => (closed = true));
    void req;
  });
  const n = node({ url: server.url });
  const controller = new AbortController();
  const started = new Promise<void>((resolve) => {
    void n.run(chat, { signal: controller.signal, onChunk: () => resolve() }).catch(() => undefined);
  });
  await started;
  assert.equal(n.status(Date.now()).inFlight, 1);
  controller.abort(new Error("client hung up"));
  for (let i = 0; i < 100 && !closed; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(closed, "the server saw the connection close");
  assert.equal(n.status(Date.now()).inFlight, 0);
});

test("error bodies: OpenAI's, vLLM's and Ollama's shapes; any other text is never taken", () => {
  assert.equal(errorMessageOf('{"error":{"message":"bad key","type":"auth"}}'), "bad key");
  assert.equal(errorMessageOf('{"error":"no such model"}'), "no such model");
  assert.equal(errorMessageOf('{"object":"error","message":"too long","type":"BadRequestError","code":400}'), "too long", "vLLM's");
  assert.equal(errorMessageOf("  Forbidden \n"), undefined);
  assert.equal(errorMessageOf('{"users":[{"name":"root","password":"hunter2"}]}'), undefined);
});

test("what an internal server answers never reaches status, health checks or busy and failed errors", async () => {
  const secret = "db_password=hunter2";
  const answers: Array<[number, string]> = [
    [401, JSON.stringify({ error: { message: `login required; ${secret}` } })],
    [404, `<html>admin console ${secret}</html>`],
    [500, `Traceback: ${secret}`],
    [503, JSON.stringify({ message: secret })],
  ];
  for (const [status, body] of answers) {
    const server = await fakeServer((_req, res) => res.writeHead(status, { "content-type": "text/html" }).end(body));
    const n = node({ url: server.url });
    await n.checkHealth(1_000);
    const error = n.status(Date.now()).error ?? "";
    assert.match(error, new RegExp(`\\b${status}\\b`), `health, HTTP ${status}: says what failed`);
    assert.ok(!error.includes("hunter2"), `health, HTTP ${status}: ${error}`);
    const failed = await n.run(chat, { signal: AbortSignal.timeout(5_000) }).then(() => assert.fail("it ran"), (e: unknown) => e);
    assert.ok(failed instanceof FlotillaError);
    // A 401's JSON message is the server answering the client's own request (ADR 0018): passed on; nothing else is.
    if (status === 401) assert.equal(failed.message, `login required; ${secret}`);
    else assert.ok(!failed.message.includes("hunter2"), `generation, HTTP ${status}: ${failed.message}`);
  }
});

test("openai: a body left open after [DONE] is cut off, not waited on", async () => {
  const server = await fakeServer((_req, res) => {
    const chunk = (content: string, finish: string | null) => JSON.stringify({ choices: [{ delta: { content }, finish_reason: finish }] });
    res.writeHead(200, { "content-type": "text/event-stream" });
    // [DONE], and then the server never ends the response.
    res.write(`data: ${chunk("Hello", null)}\n\ndata: ${chunk("", "stop")}\n\ndata: [DONE]\n\n`);
  });
  const started = Date.now();
  const result = generationResultOf(await node({ url: server.url }).run(chat, { signal: AbortSignal.timeout(5_000) }));
  assert.equal(result.text, "Hello");
  assert.equal(result.finishReason, "stop");
  assert.ok(Date.now() - started < 4_000, "answered once the trailing body was cut off");
});

test("openai: a server that answers a stream request with one JSON completion is read as the whole answer", async () => {
  const server = await fakeServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
    res.end(JSON.stringify({
      object: "chat.completion",
      choices: [{ index: 0, message: { role: "assistant", content: "All at once" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 4, completion_tokens: 3 },
    }));
  });
  const texts: string[] = [];
  const result = await node({ url: server.url }).run(chat, { signal: AbortSignal.timeout(5_000), onChunk: (c) => texts.push(c.type === "text" ? c.text : "") });
  assert.deepEqual(result, { kind: "generation", text: "All at once", finishReason: "stop", promptTokens: 4, completionTokens: 3 });
  assert.deepEqual(texts, ["All at once"]);
});

test("embeddings: OpenAI's /v1/embeddings and Ollama's /api/embed, vectors in input order and of unit length", async () => {
  const server = await fakeServer((req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    if (req.url === "/v1/embeddings") {
      // Listed out of order: `index` says whose each one is.
      res.end(JSON.stringify({ data: [{ index: 1, embedding: [0, 2] }, { index: 0, embedding: [3, 4] }], usage: { prompt_tokens: 6, total_tokens: 6 } }));
    } else {
      res.end(JSON.stringify({ model: "llama3", embeddings: [[3, 4], [0, 2]], prompt_eval_count: 6 }));
    }
  });
  const embedding = { model: "m", input: { kind: "embedding" as const, items: ["a", "b"], dimensions: undefined } };
  for (const kind of ["openai", "ollama"] as const) {
    const result = await node({ url: server.url, kind }).run(embedding, { signal: AbortSignal.timeout(5_000) });
    assert.deepEqual(result, { kind: "embedding", vectors: [[0.6, 0.8], [0, 1]], promptTokens: 6 }, kind);
  }
  assert.deepEqual(server.seen.filter((s) => s.method === "POST").map((s) => s.url), ["/v1/embeddings", "/api/embed"]);
  await assert.rejects(
    node({ url: server.url, kind: "ollama" }).run({ ...embedding, input: { ...embedding.input, items: [[1, 2]] } }, { signal: AbortSignal.timeout(5_000) }),
    { code: "unsupported_parameter" },
  );
});

test("whose fault a refusal is, by its status", () => {
  const busy = refusal("box", 429, "slow down", "12");
  assert.deepEqual([busy.code, busy.status, busy.retryable, busy.nodeFault, busy.retryAfterS], ["server_busy", 503, true, false, 12]);
  for (const status of [408, 503]) assert.equal(refusal("box", status, "", undefined).code, "server_busy");
  const tooLong = refusal("box", 400, "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens", undefined);
  assert.deepEqual([tooLong.code, tooLong.status, tooLong.retryable, tooLong.nodeFault], ["context_length_exceeded", 400, false, false]);
  const unprocessable = refusal("box", 422, "temperature: must be at most 2", undefined);
  assert.deepEqual([unprocessable.code, unprocessable.status, unprocessable.message], ["rejected_by_node", 422, "temperature: must be at most 2"]);
  const broken = refusal("box", 500, "out of memory", undefined);
  assert.deepEqual([broken.code, broken.status, broken.retryable, broken.nodeFault], ["backend_error", 502, true, true]);
  assert.equal(broken.message, "node box answered HTTP 500", "a failure says what failed, not what the node said");
  assert.equal(busy.message, "node box answered HTTP 429");
  assert.equal(refusal("box", 403, undefined, undefined).message, "node box refused the request (HTTP 403)");
  assert.equal(retryAfterSeconds("Wed, 21 Oct 2026 07:28:00 GMT"), undefined);
  assert.equal(retryAfterSeconds("99999"), 3600);
});
