// `flotilla chat` against a real `flotilla up` serving the real test model:
// the answer streams to stdout, --show-route names the node and tier on
// stderr, a piped prompt is read from stdin, and bad input fails clearly.
// And POST /cluster/execute, whose conversation the coordinator keeps.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { CLI, REPO_ROOT, runCli, startFlotilla, testModelPath, type FlotillaProcess } from "@flotilla/testkit";

const NODE = "chat-e2e";

describe("flotilla chat", () => {
  let fl: FlotillaProcess;
  let env: Record<string, string>;

  before(async () => {
    // Tier 0, so that a request forced to tier 0 is answered by this node there.
    fl = await startFlotilla({ args: ["--model", await testModelPath(), "--tier", "0", "--name", NODE] });
    env = { FLOTILLA_URL: fl.url, FLOTILLA_DATA_DIR: fl.dataDir, FLOTILLA_ADMIN_KEY: fl.adminKey };
  });
  after(async () => {
    await fl.stop();
  });

  test("streams an answer to stdout; --show-route names the node and tier on stderr", async () => {
    const res = await runCli(["chat", "Once upon a time", "--tier", "0", "--max-tokens", "8", "--show-route"], env);
    assert.equal(res.code, 0, res.stderr);
    assert.ok(res.stdout.trim().length > 0, "some text was answered");
    assert.match(res.stderr, new RegExp(`^x-flotilla-node: ${NODE}$`, "m"));
    assert.match(res.stderr, /^x-flotilla-tier: 0$/m);
    assert.match(res.stderr, /^x-flotilla-route: \S+/m);
  });

  test("without prompt arguments, a piped prompt is read from stdin", async () => {
    const child = spawn(process.execPath, [CLI, "chat", "--max-tokens", "4"], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.stdin.end("Once upon a time");
    const [code] = (await once(child, "exit")) as [number | null];
    assert.equal(code, 0, stderr);
    assert.ok(stdout.trim().length > 0);
    assert.doesNotMatch(stderr, /x-flotilla-node/, "the route is shown only when asked for");
  });

  test("a tier other than 0, 1 or 2 is a usage error (exit 2) that says what is allowed", async () => {
    const res = await runCli(["chat", "hi", "--tier", "7"], env);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /--tier/);
    assert.match(res.stderr, /'7' is invalid/);
    assert.match(res.stderr, /0, 1, 2/);
    assert.equal(res.stdout, "");
  });

  test("/cluster/execute keeps the conversation: the second turn is asked with the first one before it", async () => {
    const execute = async (body: object) => {
      const res = await fetch(`${fl.url}/cluster/execute`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> & { usage: { prompt_tokens: number; completion_tokens: number } } };
    };
    const first = await execute({ query: "Once upon a time", max_tokens: 8, prefer_tier: 0 });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.node, NODE);
    assert.equal(first.body.tier, 0);
    assert.equal(first.body.class, "SIMPLE");
    assert.ok(typeof first.body.answer === "string" && first.body.answer.length > 0);
    const id = first.body.conversation_id;
    assert.ok(typeof id === "string" && id.length > 0);

    const second = await execute({ query: "Once upon a time", max_tokens: 8, conversation_id: id });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.body.conversation_id, id);
    assert.ok(
      second.body.usage.prompt_tokens > first.body.usage.prompt_tokens + first.body.usage.completion_tokens,
      "the stored question and answer were sent before the new question",
    );

    const unknown = await execute({ query: "hi", conversation_id: "no-such-conversation" });
    assert.equal(unknown.status, 404);
    assert.deepEqual((unknown.body as unknown as { error: { param: string } }).error.param, "conversation_id");
  });

  test("an error from the coordinator exits 1 with its message", async () => {
    const res = await runCli(["chat", "hi", "--model", "no-such-model"], env);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /^flotilla: the coordinator answered 404: .*no-such-model/m);
  });
});
