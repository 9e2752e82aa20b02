// The HTTP requests Open WebUI (backend/open_webui/routers/ollama.py) sends
// to an Ollama connection, written down literally and replayed against a
// real `flotilla up` serving the real test model: verifying the connection
// (GET /api/version), listing models (GET /api/tags, then GET /api/ps for
// their expiry), a streamed chat as its chat view sends it, the non-streamed
// task chat that titles the conversation, and "unload model" (POST
// /api/generate with keep_alive 0 and an empty prompt). Each answer is
// checked for what Open WebUI reads of it.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startFlotilla, testModelPath, TEST_MODEL_ID, type FlotillaProcess } from "@flotilla/testkit";

/** Open WebUI adds `:latest` to a name without a tag, and looks the result up among /api/tags' `model`s. */
const MODEL = `${TEST_MODEL_ID}:latest`;

/** What Open WebUI sends with every request to a connection with a key (and user headers, where forwarding is on). */
function webUiHeaders(key: string): Record<string, string> {
  return {
    "Content-Type": "application/json",
    Authorization: `Bearer ${key}`,
    "X-OpenWebUI-User-Name": "Ada Lovelace",
    "X-OpenWebUI-User-Id": "8d1c3a4e-2f6b-4c1d-9a7e-5b0f3e2d1c0a",
    "X-OpenWebUI-User-Email": "ada@example.com",
    "X-OpenWebUI-User-Role": "admin",
  };
}

/** The request bodies, as Open WebUI serialises them (`json.dumps`, None values left out). */
const CHAT_STREAM_BODY = `{"model": "${MODEL}", "messages": [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "Tell me a story about a dog."}], "stream": true, "options": {"temperature": 0.8, "top_p": 0.9, "top_k": 40, "num_predict": 24, "seed": 7, "num_ctx": 2048, "repeat_penalty": 1.1, "stop": ["<|im_end|>"]}, "keep_alive": "5m"}`;
const TITLE_TASK_BODY = `{"model": "${MODEL}", "messages": [{"role": "user", "content": "### Task:\\nGenerate a concise, 3-5 word title with an emoji summarizing the chat history.\\n### Output:\\nJSON format: { \\"title\\": \\"your concise title here\\" }\\n### Chat History:\\n<chat_history>\\nUSER: Tell me a story about a dog.\\n</chat_history>"}], "stream": false, "options": {"num_predict": 16}}`;
const UNLOAD_BODY = `{"model": "${MODEL}", "keep_alive": 0, "prompt": ""}`;

interface Line {
  model?: string;
  message?: { role: string; content: string };
  done?: boolean;
  done_reason?: string;
  eval_count?: number;
  prompt_eval_count?: number;
  total_duration?: number;
  error?: string;
}

describe("the requests Open WebUI sends when it connects and chats", () => {
  let fl: FlotillaProcess;
  let headers: Record<string, string>;

  before(async () => {
    fl = await startFlotilla({ args: ["--model", await testModelPath()] });
    const res = await fetch(`${fl.url}/cluster/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${fl.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "open-webui" }),
    });
    assert.equal(res.status, 201);
    headers = webUiHeaders(((await res.json()) as { key: string }).key);
  });
  after(async () => {
    await fl.stop();
  });

  test("connect: version, tags, ps; then chat streamed, a title task, and unload", async () => {
    // 1. "Verify connection": the version must parse as Open WebUI's tuple of ints.
    const version = await fetch(`${fl.url}/api/version`, { headers });
    assert.equal(version.status, 200);
    const { version: v } = (await version.json()) as { version: string };
    assert.match(v.replace(/^v|-.*/g, ""), /^\d+\.\d+\.\d+$/);

    // 2. The model list: `model` is the key it merges and looks names up by.
    const tags = await fetch(`${fl.url}/api/tags`, { headers });
    assert.equal(tags.status, 200);
    const { models } = (await tags.json()) as { models: { name: string; model: string; details: { family: string } }[] };
    assert.deepEqual(models.map((m) => [m.name, m.model, m.details.family]), [[MODEL, MODEL, "llama"]]);

    // 3. Loaded models, whose expires_at it parses with Python's datetime.fromisoformat, matched by name.
    const ps = await fetch(`${fl.url}/api/ps`, { headers });
    assert.equal(ps.status, 200);
    const loaded = ((await ps.json()) as { models: { name: string; expires_at: string }[] }).models;
    assert.deepEqual(loaded.map((m) => m.name), [MODEL]);
    assert.match(loaded[0]?.expires_at ?? "", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);

    // 4. The chat view's request: NDJSON, relayed line by line, the last one done with counts.
    const chat = await fetch(`${fl.url}/api/chat`, { method: "POST", headers, body: CHAT_STREAM_BODY });
    assert.equal(chat.status, 200);
    assert.equal(chat.headers.get("content-type"), "application/x-ndjson");
    const lines = (await chat.text()).split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Line);
    const last = lines.at(-1);
    assert.ok(last && lines.length > 2);
    assert.ok(lines.every((l) => l.error === undefined && l.model === MODEL));
    assert.ok(lines.slice(0, -1).every((l) => l.done === false && l.message?.role === "assistant"));
    assert.ok(lines.map((l) => l.message?.content ?? "").join("").length > 0);
    assert.equal(last.done, true);
    assert.ok(last.done_reason === "length" || last.done_reason === "stop");
    assert.ok((last.eval_count ?? 0) > 0 && (last.eval_count ?? 0) <= 24, `eval_count ${last.eval_count}`);
    assert.ok((last.prompt_eval_count ?? 0) > 0);
    assert.ok((last.total_duration ?? 0) > 0);

    // 5. The task model titles the chat: one JSON answer.
    const title = await fetch(`${fl.url}/api/chat`, { method: "POST", headers, body: TITLE_TASK_BODY });
    assert.equal(title.status, 200);
    assert.match(title.headers.get("content-type") ?? "", /^application\/json/);
    const titled = (await title.json()) as Line;
    assert.equal(titled.done, true);
    assert.equal(typeof titled.message?.content, "string");
    assert.ok((titled.eval_count ?? 0) > 0 && (titled.eval_count ?? 0) <= 16);

    // 6. "Unload": 200 and done. The model stays loaded (pinned by node configuration) and says so.
    const unload = await fetch(`${fl.url}/api/generate`, { method: "POST", headers, body: UNLOAD_BODY });
    assert.equal(unload.status, 200);
    const unloaded = (await unload.json()) as Line & { response: string };
    assert.deepEqual({ model: unloaded.model, response: unloaded.response, done: unloaded.done, done_reason: unloaded.done_reason }, { model: MODEL, response: "", done: true, done_reason: "load" });
    const after = (await (await fetch(`${fl.url}/api/ps`, { headers })).json()) as { models: { name: string }[] };
    assert.deepEqual(after.models.map((m) => m.name), [MODEL]);
  });

  test("what Open WebUI shows when a connection is wrong: Ollama's `error`, as a string", async () => {
    const wrongKey = await fetch(`${fl.url}/api/tags`, { headers: { ...headers, Authorization: "Bearer wrong" } });
    assert.equal(wrongKey.status, 401);
    const body = (await wrongKey.json()) as { error: unknown };
    assert.equal(typeof body.error, "string");
    const missing = await fetch(`${fl.url}/api/chat`, { method: "POST", headers, body: CHAT_STREAM_BODY.replace(MODEL, "llama3:latest") });
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: 'model "llama3:latest" not found, try pulling it first' });
  });
});
