// Every error a client can provoke, in OpenAI's shape, against a real
// process; API keys created with the CLI; start-up without a model.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import OpenAI from "openai";
import { runCli, startFlotilla, testModelPath, TEST_MODEL_ID, type FlotillaProcess } from "@flotilla/testkit";

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string };
}

async function post(fl: FlotillaProcess, route: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${fl.url}${route}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  return { status: res.status, headers: res.headers, body: (await res.json()) as ErrorBody };
}

function assertErrorShape(body: ErrorBody, code: string, type = "invalid_request_error"): void {
  assert.equal(body.error.code, code);
  assert.equal(body.error.type, type);
  assert.equal(typeof body.error.message, "string");
  assert.ok("param" in body.error);
}

describe("errors in OpenAI's shape", () => {
  let fl: FlotillaProcess;
  let configDir: string;
  before(async () => {
    configDir = await mkdtemp(path.join(tmpdir(), "flotilla-config-"));
    const config = path.join(configDir, "flotilla.yaml");
    await writeFile(config, "# a small body limit, to test 413\nbodyLimitBytes: 4096\nslots: 2\n");
    fl = await startFlotilla({ args: ["--model", await testModelPath(), "--config", config] });
  });
  after(async () => {
    await fl.stop();
    await rm(configDir, { recursive: true, force: true });
  });

  test("malformed JSON → 400 invalid_json", async () => {
    const res = await post(fl, "/v1/chat/completions", '{"model": "x", ');
    assert.equal(res.status, 400);
    assertErrorShape(res.body, "invalid_json");
  });

  test("a body that is not an object → 400", async () => {
    const res = await post(fl, "/v1/chat/completions", "[1,2]");
    assert.equal(res.status, 400);
    assertErrorShape(res.body, "invalid_request");
  });

  test("schema violations → 400 naming the field", async () => {
    const cases: Array<[unknown, string]> = [
      [{ messages: [{ role: "user", content: "hi" }] }, "model"],
      [{ model: TEST_MODEL_ID, messages: [] }, "messages"],
      [{ model: TEST_MODEL_ID, messages: [{ role: "robot", content: "hi" }] }, "messages[0].role"],
      [{ model: TEST_MODEL_ID, messages: [{ role: "user", content: "hi" }], temperature: 3 }, "temperature"],
      [{ model: TEST_MODEL_ID, messages: [{ role: "user", content: "hi" }], max_tokens: 0 }, "max_tokens"],
      [{ model: TEST_MODEL_ID, messages: [{ role: "user", content: "hi" }], n: 2 }, "n"],
      [{ model: TEST_MODEL_ID, messages: [{ role: "user", content: "hi" }], stop: ["a", "b", "c", "d", "e"] }, "stop"],
      [{ model: TEST_MODEL_ID, messages: [{ role: "user", content: "hi" }], tools: [{ type: "function" }] }, "tools[0].function"],
    ];
    for (const [body, param] of cases) {
      const res = await post(fl, "/v1/chat/completions", JSON.stringify(body));
      assert.equal(res.status, 400, JSON.stringify(body));
      assertErrorShape(res.body, "invalid_request");
      assert.equal(res.body.error.param, param);
      assert.ok(res.body.error.message.startsWith(`${param}:`), res.body.error.message);
    }
    const res = await post(fl, "/v1/completions", JSON.stringify({ model: TEST_MODEL_ID }));
    assert.equal(res.body.error.param, "prompt");
  });

  test("unknown model → 404 model_not_found, through the SDK too", async () => {
    const res = await post(fl, "/v1/chat/completions", JSON.stringify({ model: "gpt-9", messages: [{ role: "user", content: "hi" }] }));
    assert.equal(res.status, 404);
    assertErrorShape(res.body, "model_not_found");
    assert.equal(res.body.error.param, "model");
    const client = new OpenAI({ baseURL: `${fl.url}/v1`, apiKey: "x", maxRetries: 0 });
    await assert.rejects(client.models.retrieve("gpt-9"), (err: unknown) => err instanceof OpenAI.NotFoundError);
  });

  test("a prompt larger than the context → 400 context_length_exceeded", async () => {
    const res = await post(fl, "/v1/completions", JSON.stringify({ model: TEST_MODEL_ID, prompt: "word ".repeat(700) }));
    assert.equal(res.status, 400);
    assertErrorShape(res.body, "context_length_exceeded");
  });

  test("a body over the limit → 413, answered before the body is sent", async () => {
    const { port } = new URL(fl.url);
    // Announce 50 MB and send none of it: the answer must come anyway.
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), "127.0.0.1", () => {
        socket.write(
          "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n\r\n",
        );
      });
      let data = "";
      socket.setEncoding("utf8");
      socket.on("data", (chunk: string) => {
        data += chunk;
        if (data.includes("}}")) {
          socket.destroy();
          resolve(data);
        }
      });
      socket.on("error", reject);
      setTimeout(() => reject(new Error(`no answer; got: ${data}`)), 5_000).unref();
    });
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.match(answer, /"code":"payload_too_large"/);
  });

  test("wrong method → 405 with Allow", async () => {
    const res = await fetch(`${fl.url}/v1/chat/completions`);
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "POST");
    assertErrorShape((await res.json()) as ErrorBody, "method_not_allowed");
  });

  test("unknown path → 404 in the same shape", async () => {
    const res = await fetch(`${fl.url}/v1/engines`);
    assert.equal(res.status, 404);
    assertErrorShape((await res.json()) as ErrorBody, "not_found");
  });

  test("API keys: created by the CLI, required once one exists, revocable", async () => {
    const env = { FLOTILLA_URL: fl.url, FLOTILLA_ADMIN_KEY: fl.adminKey };
    const created = await runCli(["keys", "create", "--name", "webui"], env);
    assert.equal(created.code, 0, created.stderr);
    const key = created.stdout.trim();
    assert.match(key, /^flt_[\w-]{40,}$/, "the key alone on stdout");

    const chat = JSON.stringify({ model: TEST_MODEL_ID, messages: [{ role: "user", content: "hi" }], max_tokens: 2 });
    const missing = await post(fl, "/v1/chat/completions", chat);
    assert.equal(missing.status, 401);
    assertErrorShape(missing.body, "invalid_api_key", "authentication_error");
    const wrong = await post(fl, "/v1/chat/completions", chat, { authorization: "Bearer flt_wrong" });
    assert.equal(wrong.status, 401);
    const client = new OpenAI({ baseURL: `${fl.url}/v1`, apiKey: key, maxRetries: 0 });
    const ok = await client.chat.completions.create({ model: TEST_MODEL_ID, messages: [{ role: "user", content: "hi" }], max_tokens: 2 });
    assert.equal(ok.usage?.completion_tokens, 2);

    const listed = await runCli(["keys", "list", "--json"], env);
    const keys = JSON.parse(listed.stdout) as Array<{ id: string; name: string; prefix: string }>;
    assert.equal(keys.length, 1);
    assert.equal(keys[0]?.name, "webui");
    assert.ok(!listed.stdout.includes(key), "a listing never shows the key");
    assert.ok(!fl.stderr().includes(key), "the server never logs the key");

    const revoked = await runCli(["keys", "revoke", keys[0]?.id ?? ""], env);
    assert.equal(revoked.code, 0, revoked.stderr);
    const open = await post(fl, "/v1/chat/completions", chat);
    assert.equal(open.status, 200, "with no key left /v1 is open again");
  });

  test("the cluster API refuses requests without the admin key", async () => {
    for (const headers of [{}, { authorization: "Bearer nope" }]) {
      const res = await fetch(`${fl.url}/cluster/status`, { headers });
      assert.equal(res.status, 401);
    }
    const cli = await runCli(["keys", "list"], { FLOTILLA_URL: fl.url, FLOTILLA_ADMIN_KEY: "wrong" });
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /401/);
  });
});

describe("start-up", () => {
  test("without a model: starts, says how to add one, and is not ready", async () => {
    const fl = await startFlotilla();
    try {
      assert.match(fl.stderr(), /no model is loaded yet/);
      assert.match(fl.stderr(), /--model/);
      assert.equal((await fetch(`${fl.url}/healthz`)).status, 200);
      const ready = await fetch(`${fl.url}/readyz`);
      assert.equal(ready.status, 503);
      assert.match(((await ready.json()) as { message: string }).message, /--model/);
    } finally {
      await fl.stop();
    }
  });

  test("the generated admin key is kept in the data directory, readable by its owner only", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "flotilla-admin-"));
    const fl = await startFlotilla({ dataDir, env: { FLOTILLA_ADMIN_KEY: "" } });
    try {
      const info = await stat(path.join(dataDir, "admin.key"));
      assert.equal(info.mode & 0o777, 0o600);
      const listed = await runCli(["keys", "list", "--json", "--data-dir", dataDir, "--url", fl.url], { FLOTILLA_ADMIN_KEY: "" });
      assert.equal(listed.code, 0, listed.stderr);
      assert.deepEqual(JSON.parse(listed.stdout), []);
    } finally {
      await fl.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test("bad command-line values and config files are refused with the field named", async () => {
    const badPort = await runCli(["up", "--port", "http"], {});
    assert.equal(badPort.code, 2);
    assert.match(badPort.stderr, /port: .*\(from command line\)/);

    const dir = await mkdtemp(path.join(tmpdir(), "flotilla-badconfig-"));
    try {
      const file = path.join(dir, "bad.yaml");
      await writeFile(file, "port: 8080\nslots: many\n");
      const badFile = await runCli(["up", "--config", file], {});
      assert.equal(badFile.code, 2);
      assert.match(badFile.stderr, new RegExp(`slots: .*\\(from ${file.replaceAll("/", "\\/")}:2\\)`));
      await writeFile(file, "prot: 8080\n");
      const typo = await runCli(["up", "--config", file], {});
      assert.equal(typo.code, 2);
      assert.match(typo.stderr, /prot/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a missing model file is a clear error, not a crash", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "flotilla-nomodel-"));
    try {
      const res = await runCli(["up", "--model", "/nonexistent/model.gguf", "--port", "0"], { FLOTILLA_DATA_DIR: dataDir });
      assert.equal(res.code, 1);
      assert.match(res.stderr, /model file not found or not readable: \/nonexistent\/model\.gguf/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
