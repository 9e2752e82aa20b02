// Mistakes an operator makes, each answered by the real CLI or a real
// coordinator process with what went wrong and what to do about it.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { once } from "node:events";
import { tmpdir } from "node:os";
import path from "node:path";
import { runCli, startCoordinator, type FlotillaProcess } from "@flotilla/testkit";

/** A loopback URL nothing listens on any more. */
async function closedPortUrl(): Promise<string> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  assert.ok(address && typeof address === "object");
  server.close();
  await once(server, "close");
  return `http://127.0.0.1:${address.port}`;
}

describe("the CLI's answers to bad input", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "flotilla-operator-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test("`up --tier 5` lists the allowed values", async () => {
    const run = await runCli(["up", "--tier", "5", "--port", "0"], { FLOTILLA_DATA_DIR: dir });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /tier: must be 0, 1 or 2 \(0 fast\/small, 1 medium, 2 powerful\) \(from command line\)/);
  });

  test("a file that is not GGUF is named in the error", async () => {
    const file = path.join(dir, "notes.gguf");
    await writeFile(file, "these are my notes, not a model\n".repeat(64));
    const run = await runCli(["up", "--model", file, "--port", "0", "--threads", "1"], { FLOTILLA_DATA_DIR: dir });
    assert.equal(run.code, 1, run.stderr);
    assert.ok(run.stderr.includes(`cannot load model "notes" from ${file}: `), run.stderr);
  });

  test("a failed hf: download names the file, the URL and the cause", async () => {
    const endpoint = await closedPortUrl();
    const run = await runCli(["up", "--model", "hf:owner/repo/tiny.gguf", "--port", "0", "--threads", "1"], { FLOTILLA_DATA_DIR: dir, HF_ENDPOINT: endpoint });
    assert.equal(run.code, 1, run.stderr);
    assert.ok(run.stderr.includes(`download of tiny.gguf from ${endpoint}/owner/repo/resolve/main/tiny.gguf failed: `), run.stderr);
    assert.match(run.stderr, /ECONNREFUSED/);
    assert.doesNotMatch(run.stderr, /failed: fetch failed/);
  });

  test("`token create --help` shows the TTL default as it is typed", async () => {
    const run = await runCli(["token", "create", "--help"], {});
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /--ttl <duration>.*\(default: 15m\)/s);
    assert.doesNotMatch(run.stdout, /900000/);
  });
});

describe("a coordinator alone", () => {
  let dir: string;
  let coordinator: FlotillaProcess;
  let adminKey: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "flotilla-operator-coord-"));
    ({ coordinator, adminKey } = await startCoordinator({ dir, label: "operator", heartbeatIntervalMs: 60_000, clusterFile: ["nodes: []"] }));
  });
  after(async () => {
    await coordinator.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("/readyz with no node says how machines join, not to run `flotilla up`", async () => {
    const res = await fetch(`${coordinator.url}/readyz`);
    assert.equal(res.status, 503);
    const { message } = (await res.json()) as { message: string };
    assert.match(message, /no node has joined this coordinator/);
    assert.match(message, /flotilla agent --join URL --token-file FILE/);
    assert.doesNotMatch(message, /flotilla up/);
  });

  test("`cluster remove` of an agentless node says how it comes back, with no word of join tokens", async () => {
    const env = { FLOTILLA_ADMIN_KEY: adminKey, FLOTILLA_URL: coordinator.url };
    const added = await runCli(["cluster", "add", await closedPortUrl(), "--name", "spare", "--kind", "ollama"], env);
    assert.equal(added.code, 0, added.stderr);
    const removed = await runCli(["cluster", "remove", "spare"], env);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stderr, /spare removed \(an agentless server: `flotilla cluster add http:\/\/127\.0\.0\.1:\d+ --kind ollama` adds it again\)/);
    assert.doesNotMatch(removed.stderr, /join token/);
  });
});
