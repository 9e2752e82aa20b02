// Pools and roamers with real agents as processes (issue 17): a coordinator
// whose cluster file declares the brain pool with a llama template, a
// dedicated brain agent serving the test model on one slot, and a roamer
// whose own configuration lists the template with the model file. The
// roamer is lent by hand, then by the autoscaler when the pool's jobs pile
// up, then as the pool's backup when its only node is killed; each time it
// goes through every state to RUNNING, serves the real model, and comes back.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { jobObject, type JobObject, type RoamerView } from "@flotilla/protocol";
import { runCli, startCoordinator, startFlotilla, testModelPath, TEST_MODEL_ID, waitForClusterStatus, type FlotillaProcess, fetchRoamer, waitForRoamer as waitForRoamerOf } from "@flotilla/testkit";

const HEARTBEAT_MS = 500;

describe("a roamer lent to the brain pool", () => {
  let dir: string;
  const started: FlotillaProcess[] = [];
  let url: string;
  let adminKey: string;
  let dedicated: FlotillaProcess;

  const admin = async (method: string, route: string, body?: unknown): Promise<{ status: number; json: unknown }> => {
    const res = await fetch(`${url}${route}`, {
      method,
      headers: { authorization: `Bearer ${adminKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: await res.json() };
  };
  const roamer = (): Promise<RoamerView> => fetchRoamer(url, adminKey, "roamer-1");
  const waitForRoamer = (what: string, check: (view: RoamerView) => boolean, timeoutMs = 30_000): Promise<RoamerView> =>
    waitForRoamerOf(url, adminKey, "roamer-1", what, check, timeoutMs);
  /** The states since the last IDLE before `sinceMs`: one lending's whole walk. */
  const walkSince = (view: RoamerView, sinceMs: number) => view.history.filter((entry) => entry.atMs >= sinceMs).map((entry) => entry.state);
  const submit = async (content: string): Promise<JobObject> => {
    const res = await fetch(`${url}/v1/jobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ kind: "chat", input: { model: TEST_MODEL_ID, messages: [{ role: "user", content }], max_tokens: 48 } }),
    });
    assert.equal(res.status, 202, await res.clone().text());
    return jobObject.parse(await res.json());
  };
  const finished = async (id: string, timeoutMs = 120_000): Promise<JobObject> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await fetch(`${url}/v1/jobs/${id}`, { headers: { authorization: `Bearer ${adminKey}` } });
      const job = jobObject.parse(await res.json());
      if (["succeeded", "failed", "dead", "cancelled"].includes(job.state)) return job;
      if (Date.now() > deadline) throw new Error(`job ${id} did not finish: ${JSON.stringify(job)}`);
      await sleep(50);
    }
  };

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "flotilla-roamers-"));
    const model = await testModelPath();
    const cluster = await startCoordinator({
      dir,
      heartbeatIntervalMs: HEARTBEAT_MS,
      label: "roamers",
      clusterFile: [
        "pools:",
        "  brain:",
        "    kinds: [chat, completion]",
        "    templates: [brain-llama]",
        "    release_after: 1s",
        "templates:",
        `  brain-llama: { driver: llama, model: ${TEST_MODEL_ID}, capabilities: [chat], expected_start_s: 5 }`,
        // A long cooldown: one roamer is all this test lends, and a burst would need a second.
        "roamers: { intervalMs: 200, cooldownMs: 600000 }",
      ],
    });
    started.push(cluster.coordinator);
    url = cluster.coordinator.url;
    adminKey = cluster.adminKey;
    const env = { FLOTILLA_ADMIN_KEY: adminKey, FLOTILLA_URL: url };
    const token = async () => (await runCli(["token", "create"], env)).stdout.trim();
    const agent = async (name: string, args: string[]) =>
      startFlotilla({ command: "agent", dataDir: path.join(dir, name), env: { FLOTILLA_JOIN_TOKEN: await token() }, args: ["--join", url, "--name", name, "--heartbeat-interval-ms", String(HEARTBEAT_MS), ...args] });
    dedicated = await agent("brain-1", ["--pool", "brain", "--model", model, "--slots", "1", "--ctx-size", "256"]);
    started.push(dedicated);
    // The roamer's owner lists the template, with the file it loads: the coordinator sends only the name.
    const roamerConfig = path.join(dir, "roamer.yaml");
    await writeFile(roamerConfig, ["templates:", "  brain-llama:", "    driver: llama", `    model: ${TEST_MODEL_ID}`, `    source: ${model}`, "    slots: 2", "    contextSize: 256", ""].join("\n"));
    started.push(await agent("roamer-1", ["--pool", "roamer", "--config", roamerConfig]));
    await waitForClusterStatus(url, adminKey, "the brain node serving and the roamer ready", (status) =>
      status.nodes.some((n) => n.name === "brain-1" && n.state === "ready" && n.models.length > 0) && status.nodes.some((n) => n.name === "roamer-1" && n.state === "ready"),
    30_000);
  });
  after(async () => {
    for (const process of started.reverse()) await process.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("an idle roamer lists its templates, serves nothing and takes none of the pool's work", async () => {
    const view = await roamer();
    assert.equal(view.state, "IDLE");
    assert.deepEqual(view.templates, ["brain-llama"]);
    const { json } = await admin("GET", "/cluster/pools");
    const brain = (json as { pools: { name: string; workers: { ready: number; dedicated: number }; roamers: string[] }[] }).pools.find((p) => p.name === "brain");
    assert.deepEqual({ ready: brain?.workers.ready, dedicated: brain?.workers.dedicated, roamers: brain?.roamers }, { ready: 1, dedicated: 1, roamers: [] });
  });

  test("assigned by hand, it provisions the template, serves the real model, and is released back to IDLE", async () => {
    const refused = await admin("POST", "/cluster/roamers/roamer-1/assign", { pool: "vision" });
    assert.equal(refused.status, 400, "a pool that is not declared is refused");
    const badDuration = await admin("POST", "/cluster/roamers/roamer-1/assign", { pool: "brain", duration: "forever" });
    assert.equal(badDuration.status, 400);
    assert.equal((badDuration.json as { error: { param: string } }).error.param, "duration", "the bad field is named");
    const notLent = await admin("POST", "/cluster/roamers/roamer-1/release");
    assert.equal(notLent.status, 409, "an idle roamer has nothing to give back");
    const unknown = await admin("POST", "/cluster/roamers/nobody/assign", { pool: "brain" });
    assert.equal(unknown.status, 404);
    const startedAt = Date.now();
    const assigned = await admin("POST", "/cluster/roamers/roamer-1/assign", { pool: "brain", duration: "manual" });
    assert.equal(assigned.status, 202, JSON.stringify(assigned.json));
    const running = await waitForRoamer("RUNNING", (view) => view.state === "RUNNING");
    assert.deepEqual(walkSince(running, startedAt), ["ASSIGNED", "PROVISIONING", "RUNNING"]);
    assert.equal(running.assignedBy, "operator");
    // The real model on the roamer answers a completion sent to that node.
    const tested = await admin("POST", "/cluster/nodes/roamer-1/test", {});
    assert.equal(tested.status, 200, JSON.stringify(tested.json));
    assert.equal((tested.json as { node: string; model: string }).model, TEST_MODEL_ID);
    // Manual: the autoscaler leaves it however idle it is; it goes only when told.
    const released = await admin("POST", "/cluster/roamers/roamer-1/release");
    assert.equal(released.status, 202);
    const idle = await waitForRoamer("back to IDLE", (view) => view.state === "IDLE");
    assert.deepEqual(walkSince(idle, startedAt), ["ASSIGNED", "PROVISIONING", "RUNNING", "CLEANUP", "IDLE"]);
    await waitForClusterStatus(url, adminKey, "the roamer serving nothing again", (status) => status.nodes.some((n) => n.name === "roamer-1" && n.models.length === 0));
  });

  test("the CLI lends and takes back a roamer, and shows it in roamers list and pools", async () => {
    const env = { FLOTILLA_ADMIN_KEY: adminKey, FLOTILLA_URL: url };
    const usage = await runCli(["roamers", "assign", "roamer-1"], env);
    assert.notEqual(usage.code, 0, "neither --pool nor --template");
    const assigned = await runCli(["roamers", "assign", "roamer-1", "--pool", "brain", "--minutes", "5"], env);
    assert.equal(assigned.code, 0, assigned.stderr);
    assert.match(assigned.stdout, /roamer-1 ASSIGNED: lent to brain with brain-llama \(5 min\)/);
    await waitForRoamer("RUNNING", (view) => view.state === "RUNNING");
    const list = await runCli(["roamers", "list"], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^roamer-1\s+RUNNING\s+\S+\s+brain\s+brain-llama\s+operator\s+\S+\s+5 min\s+ready\s+brain-llama$/m);
    const status = await runCli(["cluster", "status"], env);
    assert.match(status.stdout, /^roamer-1\s+\d\s+roamer→brain\s/m, "cluster status shows where the roamer is lent");
    const pools = await runCli(["pools", "--json"], env);
    const brain = (JSON.parse(pools.stdout) as { pools: { name: string; roamers: string[]; workers: { ready: number } }[] }).pools.find((p) => p.name === "brain");
    assert.deepEqual({ roamers: brain?.roamers, ready: brain?.workers.ready }, { roamers: ["roamer-1"], ready: 2 });
    const released = await runCli(["roamers", "release", "roamer-1"], env);
    assert.equal(released.code, 0, released.stderr);
    assert.match(released.stdout, /roamer-1 CLEANUP/);
    await waitForRoamer("back to IDLE", (view) => view.state === "IDLE");
  });

  test("when the pool's jobs pile up the autoscaler lends it; it takes jobs, and goes back once the pool is idle", async () => {
    const startedAt = Date.now();
    const jobs = await Promise.all(Array.from({ length: 60 }, (_, i) => submit(`Once upon a time, story ${i},`)));
    const running = await waitForRoamer("lent and RUNNING", (view) => view.state === "RUNNING", 60_000);
    assert.equal(running.assignedBy, "autoscaler");
    assert.equal(running.reason, "overflow");
    assert.equal(running.pool, "brain");
    const done = await Promise.all(jobs.map((job) => finished(job.id)));
    assert.deepEqual(done.filter((job) => job.state !== "succeeded").map((job) => `${job.id}: ${job.state} ${JSON.stringify(job.error)}`), []);
    const nodes = new Set(done.flatMap((job) => job.nodes));
    assert.ok(nodes.has("roamer-1"), `the roamer answered some of the jobs: ${[...nodes].join(", ")}`);
    assert.ok(nodes.has("brain-1"));
    const idle = await waitForRoamer("released after the pool went idle", (view) => view.state === "IDLE");
    assert.deepEqual(walkSince(idle, startedAt), ["ASSIGNED", "PROVISIONING", "RUNNING", "CLEANUP", "IDLE"]);
  });

  test("when the pool's only node is killed, the roamer is lent as its backup and runs the pool's jobs", async () => {
    const startedAt = Date.now();
    dedicated.child.kill("SIGKILL");
    const running = await waitForRoamer("lent as the backup", (view) => view.state === "RUNNING", 60_000);
    assert.equal(running.reason, "backup");
    assert.deepEqual(walkSince(running, startedAt), ["ASSIGNED", "PROVISIONING", "RUNNING"]);
    const job = await finished((await submit("The dragon")).id);
    assert.equal(job.state, "succeeded", JSON.stringify(job.error));
    assert.deepEqual(job.nodes, ["roamer-1"]);
    // The backup stays while the pool has no node of its own, idle or not.
    await sleep(1_500);
    assert.equal((await roamer()).state, "RUNNING");
  });
});
