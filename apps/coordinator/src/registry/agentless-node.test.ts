// An agentless node against small fake servers on loopback: the real HTTP
// client, the real streaming, each dialect end to end.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { once } from "node:events";
import { Agent } from "undici";
import { FlotillaError, type GenerationRequest } from "@flotilla/protocol";
import { AgentlessNode, type AgentlessNodeSpec } from "./agentless-node.ts";
import { healthPolicy } from "./node-health.ts";
import { errorMessageOf } from "./agentless/node-http.ts";

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
  assert.equal(status.error, undefined);

  const texts: string[] = [];
  const result = await n.generate(chat, { signal: new AbortController().signal, onText: (t) => texts.push(t) });
  assert.deepEqual(texts, ["Hel", "lo"]);
  assert.deepEqual(result, { text: "Hello", finishReason: "length", promptTokens: 3, completionTokens: 2 });
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
  const result = await node({ url: server.url }).generate(chat, { signal: new AbortController().signal });
  assert.deepEqual(result, { text: "x", finishReason: "stop", promptTokens: 0, completionTokens: 0 });
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
  const result = await n.generate({ ...chat, model: "llama3" }, { signal: new AbortController().signal });
  assert.deepEqual(result, { text: "Hi!", finishReason: "stop", promptTokens: 7, completionTokens: 2 });
  const post = server.seen.find((s) => s.method === "POST");
  assert.equal(post?.url, "/ollama/api/chat");
  assert.equal(post?.authorization, undefined, "no token configured, none sent");
  assert.deepEqual((post?.body as { options: unknown }).options, { num_predict: 2 });
});

test("failures are backend errors naming the node: an HTTP error with its message, a stream cut short", async () => {
  const server = await fakeServer((req, res) => {
    if (req.url === "/v1/chat/completions") {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "model m not found" } }));
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.end(`data: ${JSON.stringify({ choices: [{ index: 0, text: "partial", finish_reason: null }] })}\n\n`);
  });
  const n = node({ url: server.url });
  await assert.rejects(n.generate(chat, { signal: new AbortController().signal }), (err: unknown) => {
    assert.ok(err instanceof FlotillaError);
    assert.equal(err.code, "backend_error");
    assert.equal(err.message, "node box answered HTTP 404: model m not found");
    return true;
  });
  const completion: GenerationRequest = { ...chat, input: { kind: "completion", prompt: "x" } };
  await assert.rejects(n.generate(completion, { signal: new AbortController().signal }), /node box ended its answer without finishing it/);
  assert.equal(n.status(Date.now()).inFlight, 0, "in-flight counts go back down after failures");
});

test("an error event in the stream fails the generation with the server's message", async () => {
  const server = await fakeServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.end('error: {"code":500,"message":"the context is full","type":"server_error"}\n\n');
  });
  await assert.rejects(node({ url: server.url }).generate(chat, { signal: new AbortController().signal }), /node box failed: .*the context is full/);
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
    void n.generate(chat, { signal: controller.signal, onText: () => resolve() }).catch(() => undefined);
  });
  await started;
  assert.equal(n.status(Date.now()).inFlight, 1);
  controller.abort(new Error("client hung up"));
  for (let i = 0; i < 100 && !closed; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(closed, "the server saw the connection close");
  assert.equal(n.status(Date.now()).inFlight, 0);
});

test("error bodies: OpenAI's and Ollama's shapes, else the text", () => {
  assert.equal(errorMessageOf('{"error":{"message":"bad key","type":"auth"}}'), "bad key");
  assert.equal(errorMessageOf('{"error":"no such model"}'), "no such model");
  assert.equal(errorMessageOf("  Forbidden \n"), "Forbidden");
});

test("openai: a body left open after [DONE] is cut off, not waited on", async () => {
  const server = await fakeServer((_req, res) => {
    const chunk = (content: string, finish: string | null) => JSON.stringify({ choices: [{ delta: { content }, finish_reason: finish }] });
    res.writeHead(200, { "content-type": "text/event-stream" });
    // [DONE], and then the server never ends the response.
    res.write(`data: ${chunk("Hello", null)}\n\ndata: ${chunk("", "stop")}\n\ndata: [DONE]\n\n`);
  });
  const started = Date.now();
  const result = await node({ url: server.url }).generate(chat, { signal: AbortSignal.timeout(5_000) });
  assert.equal(result.text, "Hello");
  assert.equal(result.finishReason, "stop");
  assert.ok(Date.now() - started < 4_000, "answered once the trailing body was cut off");
});
