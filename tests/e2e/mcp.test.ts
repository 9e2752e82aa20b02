// The MCP endpoint, checked with the official SDK's own Client over
// Streamable HTTP, against a real `flotilla up` process serving the real
// test model through llama.cpp, with a client key issued by the admin API:
// what an MCP host such as Claude Code sees — the tools, each one called,
// a chat answer with its text, node and usage, flotilla's failures as tool
// errors, bad input refused by the SDK, and no key (or a wrong one) a 401.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { startFlotilla, testModelPath, TEST_MODEL_ID, type FlotillaProcess } from "@flotilla/testkit";

interface NodeView {
  name: string;
  state: string;
  tier: number;
  pool: string;
  models: Array<{ id: string; contextSize: number; capabilities: string[] }>;
  load: { slots: number; busySlots: number; queued: number; inFlight: number };
}
interface ChatAnswer {
  text: string;
  model: string;
  node: string;
  tier: number;
  finishReason: string;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  nodes: string[];
}

const TOOLS = ["chat", "cluster_status", "explain_route", "list_models"];

/** The text of a tool result's content blocks, in order. */
function texts(result: CallToolResult): string[] {
  return result.content.map((block) => (block.type === "text" ? block.text : `<${block.type}>`));
}

describe("MCP endpoint, with the SDK's own client", () => {
  let fl: FlotillaProcess;
  let clientKey: string;
  let client: Client;

  const connect = async (authorization: string | undefined): Promise<Client> => {
    const mcp = new Client({ name: "flotilla-mcp-test", version: "1.0.0" });
    const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
    await mcp.connect(new StreamableHTTPClientTransport(new URL(`${fl.url}/mcp`), { requestInit: { headers } }));
    return mcp;
  };
  const call = async (name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> =>
    (await client.callTool({ name, arguments: args })) as CallToolResult;

  before(async () => {
    fl = await startFlotilla({ args: ["--model", await testModelPath()] });
    // Once a client key exists, /v1 and /mcp want one.
    const created = await fetch(`${fl.url}/cluster/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${fl.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "mcp-test" }),
    });
    assert.equal(created.status, 201);
    clientKey = ((await created.json()) as { key: string }).key;
    client = await connect(`Bearer ${clientKey}`);
  });
  after(async () => {
    await client.close();
    await fl.stop();
  });

  test("the server names itself and lists its tools, each with a description and schemas", async () => {
    assert.equal(client.getServerVersion()?.name, "flotilla");
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), TOOLS);
    for (const tool of tools) {
      assert.ok((tool.description ?? "").length > 20, `${tool.name} says what it does`);
      assert.equal(tool.outputSchema?.type, "object", `${tool.name} has an output schema`);
    }
    const chat = tools.find((t) => t.name === "chat");
    assert.deepEqual(Object.keys(chat?.inputSchema.properties ?? {}).sort(), ["max_tokens", "messages", "model", "prefer_tier", "prompt", "temperature"]);
    assert.deepEqual(chat?.inputSchema.required, ["model"]);
  });

  test("cluster_status: the node, ready, with its tier, pool, model and load, as text and as structured content", async () => {
    const result = await call("cluster_status");
    assert.notEqual(result.isError, true);
    const view = result.structuredContent as { nodes: NodeView[]; totals: { nodes: number; ready: number; slots: number; inFlight: number } };
    assert.deepEqual(JSON.parse(texts(result)[0] ?? ""), view, "hosts that read only text see the same");
    assert.equal(view.nodes.length, 1);
    const node = view.nodes[0];
    // What the operator's /cluster/status says of the same node.
    const status = (await (await fetch(`${fl.url}/cluster/status`, { headers: { authorization: `Bearer ${fl.adminKey}` } })).json()) as {
      nodes: Array<{ name: string; state: string; tier: number; pool: string; url: string | null }>;
    };
    const seen = status.nodes[0];
    assert.ok(node && seen);
    assert.deepEqual([node.name, node.state, node.tier, node.pool], [seen.name, "ready", seen.tier, seen.pool]);
    assert.deepEqual(node.models.map((m) => m.id), [TEST_MODEL_ID]);
    assert.ok(node.models[0]?.capabilities.includes("chat"));
    assert.ok(node.load.slots >= 1);
    assert.deepEqual(view.totals, { nodes: 1, ready: 1, slots: node.load.slots, inFlight: 0 });
    assert.ok(!("url" in node) && !("hardware" in node), "what only an operator may read stays on /cluster/status");
  });

  test("list_models: what /v1/models lists, with context size and capabilities", async () => {
    const result = await call("list_models");
    const { models } = result.structuredContent as { models: Array<{ id: string; contextSize: number; capabilities: string[]; nodes: string[] }> };
    const v1 = (await (await fetch(`${fl.url}/v1/models`, { headers: { authorization: `Bearer ${clientKey}` } })).json()) as {
      data: Array<{ id: string; max_model_len: number }>;
    };
    assert.deepEqual(models.map((m) => [m.id, m.contextSize]), v1.data.map((m) => [m.id, m.max_model_len]));
    assert.deepEqual(models[0]?.capabilities, ["chat", "embed", "tools", "json"]);
    assert.equal(models[0]?.nodes.length, 1);
  });

  test("chat: the model's answer, the node and model that gave it, and true token usage", async () => {
    const status = (await call("cluster_status")).structuredContent as { nodes: NodeView[] };
    const result = await call("chat", { model: TEST_MODEL_ID, prompt: "Once upon a time", max_tokens: 16, temperature: 0 });
    assert.notEqual(result.isError, true, texts(result).join("\n"));
    const answer = result.structuredContent as unknown as ChatAnswer;
    assert.ok(answer.text.length > 0);
    assert.equal(texts(result)[0], answer.text, "the first block is the answer itself");
    assert.match(texts(result)[1] ?? "", new RegExp(`answered by ${answer.node} .*16 completion`));
    assert.equal(answer.node, status.nodes[0]?.name);
    assert.equal(answer.model, TEST_MODEL_ID);
    assert.deepEqual(answer.nodes, [answer.node]);
    assert.equal(answer.finishReason, "length");
    assert.equal(answer.usage.completion_tokens, 16, "exactly max_tokens tokens");
    assert.ok(answer.usage.prompt_tokens > 0);
    assert.equal(answer.usage.total_tokens, answer.usage.prompt_tokens + 16);
  });

  test("chat with messages is /v1/chat/completions' answer to the same request", async () => {
    const messages = [
      { role: "system", content: "You tell short stories." },
      { role: "user", content: "A story about a dog." },
    ];
    const viaMcp = (await call("chat", { model: TEST_MODEL_ID, messages, max_tokens: 12, temperature: 0, prefer_tier: 0 })).structuredContent as unknown as ChatAnswer;
    const res = await fetch(`${fl.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${clientKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: TEST_MODEL_ID, messages, max_tokens: 12, temperature: 0, prefer_tier: 0 }),
    });
    const viaV1 = (await res.json()) as { choices: Array<{ message: { content: string } }>; usage: ChatAnswer["usage"] };
    assert.equal(viaMcp.text, viaV1.choices[0]?.message.content);
    assert.deepEqual(viaMcp.usage, viaV1.usage);
  });

  test("a host that hangs up mid-chat stops the generation: the slot is free again at once", async () => {
    const busySlots = async () => ((await call("cluster_status")).structuredContent as { nodes: NodeView[] }).nodes[0]?.load.busySlots;
    const leaving = await connect(`Bearer ${clientKey}`);
    const long = leaving.callTool({ name: "chat", arguments: { model: TEST_MODEL_ID, prompt: "A long story, please.", max_tokens: 100_000 } });
    const settled = long.then(
      () => "answered",
      () => "refused",
    );
    // The node says when the generation holds its slot (at most 5 s: it answers far sooner).
    let busy = false;
    for (let i = 0; i < 250 && !busy; i++) {
      busy = ((await busySlots()) ?? 0) > 0;
      if (!busy) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(busy, "the long chat was running");
    await leaving.close();
    assert.equal(await settled, "refused", "the host's own call ends with the connection");
    let free = false;
    for (let i = 0; i < 50 && !free; i++) {
      free = (await busySlots()) === 0;
      if (!free) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(free, "the slot was free again within a second");
  });

  test("explain_route: the decision /cluster/route gives, in words first", async () => {
    const request = { model: TEST_MODEL_ID, prompt: "What is two plus two?" };
    const result = await call("explain_route", request);
    assert.notEqual(result.isError, true, texts(result).join("\n"));
    const explained = result.structuredContent as { kind: string; node: string | null; model: string | null; reason: string; candidates: Array<{ node: string; reason: string }> };
    const res = await fetch(`${fl.url}/cluster/route`, {
      method: "POST",
      headers: { authorization: `Bearer ${fl.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: TEST_MODEL_ID, messages: [{ role: "user", content: request.prompt }] }),
    });
    const operator = (await res.json()) as typeof explained;
    assert.equal(explained.kind, "chosen");
    assert.deepEqual([explained.node, explained.model, explained.reason], [operator.node, operator.model, operator.reason]);
    assert.deepEqual(explained.candidates.map((c) => c.node), operator.candidates.map((c) => c.node));
    const words = texts(result)[0] ?? "";
    assert.ok(words.startsWith(`It would go to ${operator.node ?? "?"}`), words);
    assert.ok(words.includes(`Why: ${operator.reason}`), words);
  });

  test("an unknown model is a tool error with flotilla's code and message, for chat and explain_route", async () => {
    const chat = await call("chat", { model: "no-such-model", prompt: "hi" });
    assert.equal(chat.isError, true);
    assert.equal(texts(chat)[0], "model_not_found: The model `no-such-model` does not exist on this cluster");
    const explained = await call("explain_route", { model: "no-such-model", prompt: "hi" });
    assert.notEqual(explained.isError, true, "saying why no node would take it is the answer");
    const body = explained.structuredContent as { kind: string; unavailable: string; node: string | null };
    assert.deepEqual([body.kind, body.unavailable, body.node], ["unavailable", "unknown-model", null]);
    assert.ok((texts(explained)[0] ?? "").startsWith("No node can take this request now"));
  });

  test("bad input is refused by the SDK's own validation, naming the field", async () => {
    for (const [args, field] of [
      [{ model: TEST_MODEL_ID }, "messages"],
      [{ model: TEST_MODEL_ID, prompt: "hi", messages: [{ role: "user", content: "hi" }] }, "messages"],
      [{ model: TEST_MODEL_ID, prompt: "hi", prefer_tier: 3 }, "prefer_tier"],
      [{ model: TEST_MODEL_ID, messages: [{ role: "tool", content: "hi" }] }, "messages"],
      [{ prompt: "hi" }, "model"],
    ] as const) {
      const result = await call("chat", args);
      assert.equal(result.isError, true, JSON.stringify(args));
      const text = texts(result)[0] ?? "";
      // The SDK says it as an MCP error: -32602, invalid params.
      assert.match(text, /^MCP error -32602: Input validation error: Invalid arguments for tool chat: /, text);
      assert.ok(text.includes(field), `${JSON.stringify(args)}: ${text}`);
    }
  });

  test("without a client key, or with a wrong one, /mcp is a 401 as /v1 is", async () => {
    for (const authorization of [undefined, "Bearer sk-not-a-key"]) {
      await assert.rejects(connect(authorization), (err: unknown) => err instanceof StreamableHTTPError && err.code === 401, String(authorization));
      const res = await fetch(`${fl.url}/mcp`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...(authorization === undefined ? {} : { authorization }) },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      });
      assert.equal(res.status, 401);
      const body = (await res.json()) as { error: { code: string; type: string } };
      assert.deepEqual([body.error.code, body.error.type], ["invalid_api_key", "authentication_error"]);
    }
  });

  test("a body that is not JSON is a JSON-RPC parse error; a missing key still comes first", async () => {
    const post = (authorization: string | undefined) =>
      fetch(`${fl.url}/mcp`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...(authorization === undefined ? {} : { authorization }) },
        body: '{"jsonrpc": "2.0", ',
      });
    const res = await post(`Bearer ${clientKey}`);
    assert.equal(res.status, 400);
    const body = (await res.json()) as { jsonrpc: string; error: { code: number; message: string }; id: null };
    assert.equal(body.jsonrpc, "2.0");
    assert.equal(body.error.code, -32700);
    assert.match(body.error.message, /^Parse error: the request body is not valid JSON/);
    assert.equal((await post(undefined)).status, 401);
  });

  test("stateless: GET and DELETE are 405 with Allow: POST, and no session id is handed out", async () => {
    for (const method of ["GET", "DELETE"]) {
      const res = await fetch(`${fl.url}/mcp`, { method, headers: { authorization: `Bearer ${clientKey}`, accept: "text/event-stream" } });
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.get("allow"), "POST");
      assert.equal(((await res.json()) as { jsonrpc: string }).jsonrpc, "2.0");
    }
    const res = await fetch(`${fl.url}/mcp`, {
      method: "POST",
      headers: { authorization: `Bearer ${clientKey}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "curl", version: "1" } } }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("mcp-session-id"), null);
    assert.equal(((await res.json()) as { result: { serverInfo: { name: string } } }).result.serverInfo.name, "flotilla");
  });
});
