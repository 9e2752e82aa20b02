// The keeper's state machine, with a driver whose every step the test
// resolves by hand (named as a fake: the real drivers have their own
// conformance tests, llama-driver.test.ts and process-driver.test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { assignmentReport, FlotillaError, type AssignmentReport, type AssignmentRequest } from "@flotilla/protocol";
import { AssignmentKeeper } from "./assignment-keeper.ts";
import type { WorkloadTemplates } from "./template-config.ts";
import type { WorkloadDriver, WorkloadLog } from "./workload-driver.ts";

const silent: WorkloadLog = { debug: () => {}, info: () => {}, warn: () => {} };

const templates: WorkloadTemplates = {
  "tiny-chat": { driver: "llama", model: "tiny", source: "/models/tiny.gguf" },
  echo: { driver: "process", command: ["/bin/echo"], health: "http://127.0.0.1:9/", startTimeoutMs: 1000, restarts: 0, restartWindowMs: 1000, stopGraceMs: 0 },
};

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}
function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A fake driver: provision and stop end when the test says so; it records what was called. */
class FakeDriver implements WorkloadDriver {
  readonly kind = "process";
  readonly calls: string[] = [];
  readonly provisioned = deferred();
  stopResult: Promise<void> = Promise.resolve();
  signal: AbortSignal | undefined;
  progress: ((fraction: number, message: string) => void) | undefined;
  fail: (message: string) => void = () => {};

  provision(signal: AbortSignal, onProgress: (fraction: number, message: string) => void): Promise<void> {
    this.calls.push("provision");
    this.signal = signal;
    this.progress = onProgress;
    // As a real driver does: an abort ends provisioning with its reason.
    signal.addEventListener("abort", () => this.provisioned.reject(signal.reason as Error), { once: true });
    return this.provisioned.promise;
  }
  health(): Promise<{ ok: true }> {
    return Promise.resolve({ ok: true });
  }
  stop(): Promise<void> {
    this.calls.push("stop");
    return this.stopResult;
  }
  cleanup(): Promise<void> {
    this.calls.push("cleanup");
    return Promise.resolve();
  }
  onFailure(listener: (message: string) => void): void {
    this.fail = listener;
  }
}

function setup() {
  let nowMs = 1_000;
  const drivers: { name: string; driver: FakeDriver }[] = [];
  const changes: (AssignmentReport | null)[] = [];
  const keeper = new AssignmentKeeper({
    templates,
    log: silent,
    nowMs: () => nowMs,
    createDriver: (name) => {
      const driver = new FakeDriver();
      drivers.push({ name, driver });
      return driver;
    },
  });
  keeper.onChange((report) => changes.push(report));
  const driver = (i = 0): FakeDriver => {
    const made = drivers[i];
    assert.ok(made, `driver ${i} was made`);
    return made.driver;
  };
  return { keeper, drivers, driver, changes, tick: (ms: number) => (nowMs += ms) };
}

const request = (id = "a1", template = "tiny-chat", pool = "vision"): AssignmentRequest => ({ id, template, pool });
const states = (changes: (AssignmentReport | null)[]) => changes.map((c) => c?.state ?? null);
/** Lets the keeper's awaits run: the fake's promises are already settled when this is called. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

test("nothing assigned: no report, its templates listed, release is a no-op", async () => {
  const { keeper, changes } = setup();
  assert.equal(keeper.report(), null);
  assert.deepEqual(keeper.templates(), ["echo", "tiny-chat"]);
  await keeper.release();
  assert.deepEqual(changes, []);
});

test("provisioning with progress, then running; every report is the protocol's", async () => {
  const { keeper, driver, changes, tick } = setup();
  const first = keeper.assign(request());
  assert.deepEqual(first, { id: "a1", template: "tiny-chat", pool: "vision", state: "provisioning", stateAgeMs: 0, progress: 0 });
  driver().progress?.(0.5, "downloading tiny.gguf");
  tick(250);
  assert.deepEqual(keeper.report(), { ...first, stateAgeMs: 250, progress: 0.5, message: "downloading tiny.gguf" });
  driver().provisioned.resolve();
  await settle();
  tick(100);
  const running = keeper.report();
  assert.deepEqual(running, { id: "a1", template: "tiny-chat", pool: "vision", state: "running", stateAgeMs: 100 });
  assert.deepEqual(states(changes), ["provisioning", "running"], "progress alone is no change of state");
  for (const report of [first, running, ...changes]) assignmentReport.parse(report);
});

test("the same id again is idempotent: the current report, no second driver", async () => {
  const { keeper, drivers, driver } = setup();
  keeper.assign(request());
  assert.equal(keeper.assign(request()).state, "provisioning");
  driver().provisioned.resolve();
  await settle();
  assert.equal(keeper.assign(request()).state, "running");
  assert.equal(drivers.length, 1);
  assert.throws(() => keeper.assign(request("a1", "echo")), (err: unknown) => err instanceof FlotillaError && err.code === "conflict" && err.param === "id");
});

test("a template not in the configuration is not_found, naming the template", () => {
  const { keeper, drivers } = setup();
  assert.throws(
    () => keeper.assign(request("a1", "rm-rf")),
    (err: unknown) =>
      err instanceof FlotillaError && err.code === "not_found" && err.status === 404 && err.param === "template" && err.message === `template "rm-rf" is not listed in this agent's configuration`,
  );
  // Not an own property either: a name like an Object method is not a template.
  assert.throws(() => keeper.assign(request("a1", "constructor")), (err: unknown) => err instanceof FlotillaError && err.code === "not_found");
  assert.equal(drivers.length, 0);
  assert.equal(keeper.report(), null);
});

test("another assignment while one is active is a conflict, in every state until it is gone", async () => {
  const { keeper, driver } = setup();
  keeper.assign(request("a1"));
  const isConflict = (err: unknown) => err instanceof FlotillaError && err.code === "conflict" && err.status === 409;
  assert.throws(() => keeper.assign(request("a2", "echo")), isConflict);
  driver().provisioned.reject(new Error("no such file"));
  await settle();
  assert.equal(keeper.report()?.state, "failed");
  assert.throws(() => keeper.assign(request("a2", "echo")), isConflict, "a failed one is not clean yet");
  await keeper.release();
  assert.equal(keeper.assign(request("a2", "echo")).state, "provisioning");
});

test("a failed provisioning is failed with its message", async () => {
  const { keeper, driver, changes } = setup();
  keeper.assign(request());
  driver().provisioned.reject(new Error("model file not found or not readable: /models/tiny.gguf"));
  await settle();
  const report = keeper.report();
  assert.equal(report?.state, "failed");
  assert.equal(report?.message, "model file not found or not readable: /models/tiny.gguf");
  assert.equal(report?.progress, undefined);
  assert.deepEqual(states(changes), ["provisioning", "failed"]);
});

test("a driver that fails on its own while running makes it failed", async () => {
  const { keeper, driver, changes } = setup();
  keeper.assign(request());
  driver().provisioned.resolve();
  await settle();
  driver().fail("exited with code 1, past its restart budget");
  assert.deepEqual(keeper.report()?.message, "exited with code 1, past its restart budget");
  assert.deepEqual(states(changes), ["provisioning", "running", "failed"]);
});

test("release: stopping at once, then stop and cleanup, then nothing assigned", async () => {
  const { keeper, driver, changes } = setup();
  keeper.assign(request());
  driver().provisioned.resolve();
  await settle();
  const stopped = deferred();
  driver().stopResult = stopped.promise;
  const releasing = keeper.release();
  assert.equal(keeper.report()?.state, "stopping");
  assert.equal(keeper.release(), releasing, "a second release joins the first");
  stopped.resolve();
  await releasing;
  assert.equal(keeper.report(), null);
  assert.deepEqual(driver().calls, ["provision", "stop", "cleanup"]);
  assert.deepEqual(states(changes), ["provisioning", "running", "stopping", null]);
});

test("release while provisioning aborts the provisioning, then cleans up", async () => {
  const { keeper, driver, changes } = setup();
  keeper.assign(request());
  await keeper.release();
  assert.equal(driver().signal?.aborted, true);
  assert.deepEqual(driver().calls, ["provision", "stop", "cleanup"]);
  assert.equal(keeper.report(), null);
  assert.deepEqual(states(changes), ["provisioning", "stopping", null], "the aborted provisioning is not reported as failed");
});

test("a release that cannot clean up leaves it failed, saying why; a later release tries again", async () => {
  const { keeper, driver } = setup();
  keeper.assign(request());
  driver().provisioned.resolve();
  await settle();
  driver().stopResult = Promise.reject(new Error("EPERM"));
  await keeper.release();
  assert.equal(keeper.report()?.state, "failed");
  assert.equal(keeper.report()?.message, "could not be cleaned up: EPERM");
  driver().stopResult = Promise.resolve();
  await keeper.release();
  assert.equal(keeper.report(), null);
});

test("a long message is cut to the protocol's bound", async () => {
  const { keeper, driver } = setup();
  keeper.assign(request());
  driver().provisioned.reject(new Error("x".repeat(5000)));
  await settle();
  assignmentReport.parse(keeper.report());
});

test("close releases, and takes no new assignment", async () => {
  const { keeper, driver } = setup();
  keeper.assign(request());
  driver().provisioned.resolve();
  await settle();
  await keeper.close();
  assert.equal(keeper.report(), null);
  assert.throws(() => keeper.assign(request("a2")), (err: unknown) => err instanceof FlotillaError && err.code === "conflict");
});
