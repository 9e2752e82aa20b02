// The nomad driver against a STAND-IN for Nomad's HTTP API
// (fixtures/nomad-stand-in.ts: Nomad cannot run here), whose task is a real
// program (fixtures/health-server.mjs, run as a raw_exec task would be):
// the conformance suite, then what the driver owes Nomad: the job file sent
// as it is, the token header (and never in the logs), a failed allocation's
// reason, onFailure, the purge on cleanup, and old allocations of a job ID
// that say nothing about a new run.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { NomadStandIn } from "./fixtures/nomad-stand-in.ts";
import { NomadDriver } from "./nomad-driver.ts";
import type { NomadTemplate } from "./template-config.ts";
import { workloadDriverConformance } from "./workload-driver-conformance.ts";
import type { WorkloadLog } from "./workload-driver.ts";
import { freePort } from "@flotilla/testkit";

const FIXTURE = fileURLToPath(new URL("./fixtures/health-server.mjs", import.meta.url));
const silent: WorkloadLog = { debug: () => {}, info: () => {}, warn: () => {} };
const TOKEN = "s3cret-acl-token";

const nomad = new NomadStandIn({ token: TOKEN });
let address = "";
const jobDir = mkdtempSync(path.join(tmpdir(), "flotilla-nomad-"));
before(async () => {
  address = await nomad.listen();
});
after(async () => {
  await nomad.close();
  rmSync(jobDir, { recursive: true, force: true });
});

let jobs = 0;

/** A job file (the API's shape, as `nomad job run -output` writes it) whose task runs `argv`. */
function writeJob(id: string, port: number, argv: string[]): string {
  const [command, ...args] = argv;
  const job = {
    Job: {
      ID: id,
      Name: id,
      Type: "service",
      Datacenters: ["dc1"],
      TaskGroups: [{
        Name: "web",
        Count: 1,
        Networks: [{ ReservedPorts: [{ Label: "http", Value: port }] }],
        Tasks: [{ Name: "serve", Driver: "raw_exec", Config: { command, args } }],
      }],
    },
  };
  const file = path.join(jobDir, `${id}.json`);
  writeFileSync(file, `${JSON.stringify(job, null, 2)}\n`);
  return file;
}

interface Made {
  driver: NomadDriver;
  template: NomadTemplate;
  jobId: string;
  jobFile: string;
  url: (p: string) => string;
  running: () => boolean;
}

async function make(options: { argv?: (port: number) => string[]; template?: Partial<NomadTemplate>; log?: WorkloadLog; jobId?: string } = {}): Promise<Made> {
  const port = await freePort();
  const jobId = options.jobId ?? `flotilla-test-${++jobs}`;
  const jobFile = writeJob(jobId, port, options.argv?.(port) ?? [process.execPath, FIXTURE, String(port)]);
  const template: NomadTemplate = {
    driver: "nomad",
    address,
    job: jobFile,
    tokenEnv: "FLOTILLA_TEST_NOMAD_TOKEN",
    health: `http://127.0.0.1:${port}/health`,
    startTimeoutMs: 10_000,
    stopGraceMs: 5_000,
    ...options.template,
  };
  const driver = new NomadDriver({ name: "fixture", template, env: { FLOTILLA_TEST_NOMAD_TOKEN: TOKEN }, log: options.log ?? silent });
  return { driver, template, jobId, jobFile, url: (p) => `http://127.0.0.1:${port}${p}`, running: () => nomad.running(jobId) };
}

const exitsAtOnce = () => [process.execPath, "-e", "process.exit(3)"];

workloadDriverConformance("nomad", {
  working: () => make(),
  // Its task exits at once: the allocation fails.
  failing: () => make({ argv: exitsAtOnce }),
});

const never = () => new AbortController().signal;
const sent = (jobId: string) => nomad.requests.filter((r) => r.url.includes(`/${jobId}`) || (r.method === "POST" && r.body.includes(`"${jobId}"`)));

test("the job file is sent as it is, with the token header; the task serves its health URL", async () => {
  const { driver, jobId, jobFile, url } = await make();
  try {
    await driver.provision(never(), () => {});
    assert.equal((await fetch(url("/health"))).status, 200);
    const posts = sent(jobId).filter((r) => r.method === "POST");
    assert.equal(posts.length, 1);
    assert.equal(posts[0]?.url, "/v1/jobs");
    assert.equal(posts[0]?.body, readFileSync(jobFile, "utf8"), "byte for byte");
    assert.equal(posts[0]?.headers["content-type"], "application/json");
    assert.ok(sent(jobId).every((r) => r.headers["x-nomad-token"] === TOKEN), "every call carries the token");
  } finally {
    await driver.cleanup();
  }
});

test("the token is never in the logs", async () => {
  const lines: string[] = [];
  const log: WorkloadLog = {
    debug: (fields, message) => lines.push(JSON.stringify({ fields, message })),
    info: (fields, message) => lines.push(JSON.stringify({ fields, message })),
    warn: (fields, message) => lines.push(JSON.stringify({ fields, message })),
  };
  const { driver } = await make({ log });
  await driver.provision(never(), () => {});
  await driver.cleanup();
  assert.ok(lines.length >= 3, lines.join("\n"));
  assert.ok(lines.every((line) => !line.includes(TOKEN)));
});

test("a template whose tokenEnv is unset fails before it sends anything", async () => {
  const { template, jobId } = await make();
  const unset = new NomadDriver({ name: "fixture", template: { ...template, tokenEnv: "FLOTILLA_TEST_UNSET" }, env: {}, log: silent });
  await assert.rejects(unset.provision(never(), () => {}), /the environment variable FLOTILLA_TEST_UNSET \(the template's tokenEnv\) is not set/);
  assert.deepEqual(sent(jobId), []);
});

test("a wrong token: Nomad's refusal fails the provisioning at once, with its status", async () => {
  const { template } = await make();
  const wrong = new NomadDriver({ name: "fixture", template, env: { FLOTILLA_TEST_NOMAD_TOKEN: "wrong" }, log: silent });
  await assert.rejects(wrong.provision(never(), () => {}), /Nomad answered POST \/v1\/jobs with 403: Permission denied/);
});

test("a failed allocation fails the provisioning with Nomad's reason, and the job is purged", async () => {
  const { driver, jobId, running } = await make({ argv: exitsAtOnce });
  await assert.rejects(driver.provision(never(), () => {}), new RegExp(`job ${jobId}: allocation [0-9a-f]{8} is failed: Failed tasks; task "serve": Exit Code: 3`));
  assert.equal(running(), false);
  assert.ok(sent(jobId).some((r) => r.method === "DELETE" && r.url === `/v1/job/${jobId}?purge=true`));
});

test("aborted while its allocation is pending: the job is deregistered and purged, and nothing runs", async () => {
  const { driver, jobId, running } = await make();
  const controller = new AbortController();
  const reason = new Error("released");
  const provisioning = driver.provision(controller.signal, (_, message) => {
    // Reported once the job was registered.
    if (message.startsWith("waiting for an allocation")) controller.abort(reason);
  });
  await assert.rejects(provisioning, (err) => err === reason);
  assert.equal(running(), false);
  // Between the two DELETEs, stopping asks for the allocations until the pending one has ended.
  const calls = sent(jobId).map((r) => `${r.method} ${r.url}`).filter((call, i, all) => call !== all[i - 1]);
  assert.deepEqual(calls, ["POST /v1/jobs", `DELETE /v1/job/${jobId}`, `GET /v1/job/${jobId}/allocations`, `DELETE /v1/job/${jobId}?purge=true`]);
});

test("stop deregisters the job and waits for its task to end; cleanup purges it", async () => {
  const { driver, jobId, running } = await make();
  await driver.provision(never(), () => {});
  await driver.stop();
  assert.equal(running(), false);
  assert.deepEqual(sent(jobId).filter((r) => r.method === "DELETE").map((r) => r.url), [`/v1/job/${jobId}`]);
  await driver.cleanup();
  assert.deepEqual(sent(jobId).filter((r) => r.method === "DELETE").map((r) => r.url), [`/v1/job/${jobId}`, `/v1/job/${jobId}?purge=true`]);
});

test("an allocation that leaves running after provisioning fails the workload: onFailure fires once, health says why", async () => {
  const { driver, jobId, url } = await make();
  const failed = new Promise<string>((resolve) => driver.onFailure(resolve));
  let failures = 0;
  driver.onFailure(() => failures++);
  try {
    await driver.provision(never(), () => {});
    await fetch(url("/crash"));
    const message = await failed;
    assert.match(message, new RegExp(`job ${jobId}: allocation [0-9a-f]{8} is failed: Failed tasks; task "serve": Exit Code: 1`));
    assert.deepEqual(await driver.health(), { ok: false, message });
    assert.equal(failures, 1);
  } finally {
    await driver.cleanup();
  }
});

test("the same job file runs again after cleanup: the purged run's old allocations are not this run's", async () => {
  const first = await make({ jobId: "flotilla-test-again" });
  await first.driver.provision(never(), () => {});
  await first.driver.cleanup();
  // The stand-in, like Nomad before its garbage collection, still lists the old, complete allocation.
  const second = new NomadDriver({ name: "fixture", template: first.template, env: { FLOTILLA_TEST_NOMAD_TOKEN: TOKEN }, log: silent });
  try {
    await second.provision(never(), () => {});
    assert.deepEqual(await second.health(), { ok: true });
  } finally {
    await second.cleanup();
  }
});

test("a job file that is no Nomad job fails the provisioning, naming the file", async () => {
  const file = path.join(jobDir, "not-a-job.json");
  writeFileSync(file, JSON.stringify({ Name: "no Job key" }));
  const { driver } = await make({ template: { job: file } });
  await assert.rejects(driver.provision(never(), () => {}), new RegExp(`the job file ${file} is not a Nomad job \\(\\{"Job": \\{"ID": …\\}\\}\\): Job`));
  writeFileSync(file, "{not json");
  const again = await make({ template: { job: file } });
  await assert.rejects(again.driver.provision(never(), () => {}), /is not JSON/);
});
