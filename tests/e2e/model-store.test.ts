// The model store with real processes (issue 17, docs/adr/0042): a
// `flotilla coordinator`, `flotilla models add|list|remove` as a user types
// them, and a roamer agent whose template's source is `store:stories260K`:
// lent by hand, it pulls the file from the coordinator into its own data
// directory, verifies it, serves the real model, and keeps the file for its
// next lending. The credentials are the real ones: the admin key, the node
// credential the agent got when it joined.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadCredentials, parseModelSource, resolveModel } from "@flotilla/agent";
import { storedModelsResponse, type RoamerView } from "@flotilla/protocol";
import { runCli, startCoordinator, startFlotilla, testModelPath, TEST_MODEL_ID, TEST_MODEL_SHA256, waitForClusterStatus, type FlotillaProcess, waitForRoamer as waitForRoamerOf } from "@flotilla/testkit";

const HEARTBEAT_MS = 500;
/** A file large enough to time a transfer by: what the MB/s below are measured on. */
const BULK_BYTES = 64 * 1024 * 1024;

describe("the model store: models add, then a roamer pulls its template's model from it", () => {
  let dir: string;
  const started: FlotillaProcess[] = [];
  let url: string;
  let adminKey: string;
  let env: Record<string, string>;
  let roamerDataDir: string;
  let nodeCredential: string;

  const call = (method: string, route: string, credential: string | undefined, body?: unknown) =>
    fetch(`${url}${route}`, {
      method,
      headers: { ...(credential === undefined ? {} : { authorization: `Bearer ${credential}` }), ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const waitForRoamer = (what: string, check: (view: RoamerView) => boolean, timeoutMs = 60_000): Promise<RoamerView> =>
    waitForRoamerOf(url, adminKey, "roamer-1", what, check, timeoutMs);
  const cachedFile = () => path.join(roamerDataDir, "models", "store", TEST_MODEL_SHA256);

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "flotilla-model-store-"));
    const cluster = await startCoordinator({
      dir,
      heartbeatIntervalMs: HEARTBEAT_MS,
      label: "model_store",
      clusterFile: [
        "pools:",
        "  brain:",
        "    kinds: [chat, completion]",
        "    templates: [brain-llama]",
        "templates:",
        `  brain-llama: { driver: llama, model: ${TEST_MODEL_ID}, capabilities: [chat], expected_start_s: 5 }`,
        "roamers: { intervalMs: 200 }",
      ],
    });
    started.push(cluster.coordinator);
    url = cluster.coordinator.url;
    adminKey = cluster.adminKey;
    env = { FLOTILLA_ADMIN_KEY: adminKey, FLOTILLA_URL: url };
  });
  after(async () => {
    for (const process of started.reverse()) await process.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("flotilla models add stores the test model; list shows it; the same bytes again are stored once", async () => {
    const model = await testModelPath();
    const added = await runCli(["models", "add", model], env);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, new RegExp(`^stored ${TEST_MODEL_ID}: sha256 ${TEST_MODEL_SHA256}, 1\\.1 MB \\(new\\)`));
    const copy = await runCli(["models", "add", model, "--name", "stories-copy"], env);
    assert.equal(copy.code, 0, copy.stderr);
    assert.match(copy.stdout, /the same bytes were already stored/);

    const list = await runCli(["models", "list"], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^${TEST_MODEL_ID}\\s+${TEST_MODEL_SHA256}\\s+1\\.1 MB\\s+\\d{4}-`, "m"));
    assert.match(list.stdout, /^stories-copy\s/m);
    const removed = await runCli(["models", "remove", "stories-copy"], env);
    assert.equal(removed.code, 0, removed.stderr);
    const json = storedModelsResponse.parse(JSON.parse((await runCli(["models", "list", "--json"], env)).stdout));
    assert.deepEqual(json.models.map((m) => [m.name, m.sha256, m.size]), [[TEST_MODEL_ID, TEST_MODEL_SHA256, (await stat(model)).size]]);

    const bad = await runCli(["models", "add", model, "--name", "no:colons"], env);
    assert.equal(bad.code, 2, "a bad name is a usage error");
    const missing = await runCli(["models", "remove", "nope"], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no model named nope/);
  });

  test("without a credential every model route is 401", async () => {
    for (const [method, route] of [
      ["GET", "/cluster/models"],
      ["PUT", "/cluster/models/x"],
      ["DELETE", `/cluster/models/${TEST_MODEL_ID}`],
      ["GET", `/cluster/models/${TEST_MODEL_ID}/ref`],
      ["GET", `/cluster/models/by-hash/${TEST_MODEL_SHA256}`],
    ] as const) {
      assert.equal((await call(method, route, undefined)).status, 401, `${method} ${route}`);
    }
  });

  test("a roamer lent for a store: template pulls the file, verifies it, serves it, and keeps it for next time", async () => {
    const token = (await runCli(["token", "create"], env)).stdout.trim();
    roamerDataDir = path.join(dir, "roamer-1");
    const roamerConfig = path.join(dir, "roamer.yaml");
    await writeFile(roamerConfig, ["templates:", "  brain-llama:", "    driver: llama", `    model: ${TEST_MODEL_ID}`, `    source: "store:${TEST_MODEL_ID}"`, "    slots: 1", "    contextSize: 256", ""].join("\n"));
    started.push(
      await startFlotilla({
        command: "agent",
        dataDir: roamerDataDir,
        env: { FLOTILLA_JOIN_TOKEN: token },
        args: ["--join", url, "--name", "roamer-1", "--pool", "roamer", "--config", roamerConfig, "--heartbeat-interval-ms", String(HEARTBEAT_MS)],
      }),
    );
    await waitForClusterStatus(url, adminKey, "the roamer ready", (status) => status.nodes.some((n) => n.name === "roamer-1" && n.state === "ready"), 30_000);
    await assert.rejects(stat(cachedFile()), "nothing pulled before it is lent");

    const assigned = await call("POST", "/cluster/roamers/roamer-1/assign", adminKey, { template: "brain-llama", pool: "brain", duration: "manual" });
    assert.equal(assigned.status, 202, await assigned.text());
    await waitForRoamer("RUNNING", (view) => view.state === "RUNNING");
    assert.equal(createHash("sha256").update(await readFile(cachedFile())).digest("hex"), TEST_MODEL_SHA256);
    const tested = await call("POST", "/cluster/nodes/roamer-1/test", adminKey, {});
    assert.equal(tested.status, 200, await tested.clone().text());
    assert.equal(((await tested.json()) as { model: string }).model, TEST_MODEL_ID);

    // Released and lent again: the file it pulled is the one it loads, not pulled again.
    const pulled = await stat(cachedFile());
    assert.equal((await call("POST", "/cluster/roamers/roamer-1/release", adminKey)).status, 202);
    await waitForRoamer("back to IDLE", (view) => view.state === "IDLE");
    assert.equal((await call("POST", "/cluster/roamers/roamer-1/assign", adminKey, { template: "brain-llama", pool: "brain", duration: "manual" })).status, 202);
    await waitForRoamer("RUNNING again", (view) => view.state === "RUNNING");
    const kept = await stat(cachedFile());
    assert.deepEqual([kept.ino, kept.mtimeMs], [pulled.ino, pulled.mtimeMs]);
  });

  test("a node's credential may look up and download, not add or remove", async () => {
    const saved = await loadCredentials(roamerDataDir);
    assert.ok(saved);
    nodeCredential = saved.nodeCredential;
    const ref = await call("GET", `/cluster/models/${TEST_MODEL_ID}/ref`, nodeCredential);
    assert.equal(ref.status, 200);
    assert.equal(((await ref.json()) as { sha256: string }).sha256, TEST_MODEL_SHA256);
    const range = await fetch(`${url}/cluster/models/by-hash/${TEST_MODEL_SHA256}`, { headers: { authorization: `Bearer ${nodeCredential}`, range: "bytes=0-3" } });
    assert.equal(range.status, 206);
    assert.equal(Buffer.from(await range.arrayBuffer()).toString("latin1"), "GGUF");
    assert.equal((await call("GET", "/cluster/models", nodeCredential)).status, 401, "the list is the admin's");
    const put = await fetch(`${url}/cluster/models/intruder`, { method: "PUT", headers: { authorization: `Bearer ${nodeCredential}`, "content-type": "application/octet-stream" }, body: "GGUF" });
    assert.equal(put.status, 401);
    assert.equal((await call("DELETE", `/cluster/models/${TEST_MODEL_ID}`, nodeCredential)).status, 401);
    assert.equal((await call("GET", "/cluster/models/intruder/ref", adminKey)).status, 404);
  });

  test("throughput: a 64 MiB model added by the CLI and pulled by the agent's own code", async (t) => {
    const bulk = path.join(dir, "bulk.gguf");
    const bytes = randomBytes(BULK_BYTES);
    await writeFile(bulk, bytes);
    const addStartedMs = performance.now();
    const added = await runCli(["models", "add", bulk], env);
    const addMs = performance.now() - addStartedMs;
    assert.equal(added.code, 0, added.stderr);
    const cacheDir = path.join(dir, "pull-cache");
    const pullStartedMs = performance.now();
    const file = await resolveModel(parseModelSource("store:bulk"), { cacheDir, hfEndpoint: "", hfToken: undefined, store: () => ({ url, credential: nodeCredential }) });
    const pullMs = performance.now() - pullStartedMs;
    assert.equal(createHash("sha256").update(await readFile(file)).digest("hex"), createHash("sha256").update(bytes).digest("hex"));
    const mbPerS = (ms: number) => (BULK_BYTES / 1_048_576 / (ms / 1000)).toFixed(0);
    t.diagnostic(`models add (CLI process, upload, hash, index): ${mbPerS(addMs)} MB/s; store pull (lookup, download, verify): ${mbPerS(pullMs)} MB/s, over loopback`);
  });
});
