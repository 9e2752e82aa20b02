// The process driver on a real program (fixtures/health-server.mjs, run by
// this node): the conformance suite, then supervision: the environment it
// gets, its output in the log, restarts after a crash, the budget, SIGKILL
// for a program that ignores SIGTERM, and the process group.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { freePort } from "@flotilla/testkit";
import { ProcessDriver } from "./process-driver.ts";
import type { ProcessTemplate } from "./template-config.ts";
import { workloadDriverConformance } from "./workload-driver-conformance.ts";
import type { WorkloadLog } from "./workload-driver.ts";

const FIXTURE = fileURLToPath(new URL("./fixtures/health-server.mjs", import.meta.url));
const silent: WorkloadLog = { debug: () => {}, info: () => {}, warn: () => {} };


/** The live (not zombie) processes whose parent is this test process and whose argv contains `marker`. */
function childrenWith(marker: string, parent = process.pid): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // comm may hold spaces and parentheses: the fields after its last ')' are fixed.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(ppid) !== parent || state === "Z") continue;
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (argv.includes(marker)) found.push(Number(entry));
    } catch {
      // gone while we looked
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** A log that tells when a program (of any pid, or of a new one) said it listens: no polling for it. */
function listeningLog(): { log: WorkloadLog; listening: (notPid?: number) => Promise<number> } {
  const seen: number[] = [];
  const waiting: { notPid: number | undefined; resolve: (pid: number) => void }[] = [];
  const log: WorkloadLog = {
    ...silent,
    debug: (fields) => {
      const { pid, line } = fields as { pid: number; line: string };
      if (!line.startsWith("fixture listening")) return;
      seen.push(pid);
      for (const w of waiting.splice(0)) {
        if (w.notPid === pid) waiting.push(w);
        else w.resolve(pid);
      }
    },
  };
  const listening = (notPid?: number) => {
    const already = seen.findLast((pid) => pid !== notPid);
    return already !== undefined ? Promise.resolve(already) : new Promise<number>((resolve) => waiting.push({ notPid, resolve }));
  };
  return { log, listening };
}

interface Made {
  driver: ProcessDriver;
  port: number;
  url: (p: string) => string;
  running: () => boolean;
}

async function make(template: Partial<ProcessTemplate> = {}, extraArgs: string[] = [], log: WorkloadLog = silent): Promise<Made> {
  const port = await freePort();
  const driver = new ProcessDriver({
    name: "fixture",
    template: {
      driver: "process",
      command: [process.execPath, FIXTURE, String(port), ...extraArgs],
      health: `http://127.0.0.1:${port}/health`,
      startTimeoutMs: 10_000,
      restarts: 3,
      restartWindowMs: 600_000,
      stopGraceMs: 5_000,
      ...template,
    },
    path: process.env.PATH,
    log,
  });
  return { driver, port, url: (p) => `http://127.0.0.1:${port}${p}`, running: () => childrenWith(String(port)).length > 0 };
}

workloadDriverConformance("process", {
  working: () => make(),
  // It exits at once, before its health URL could answer.
  failing: async () => {
    const port = await freePort();
    const driver = new ProcessDriver({
      name: "exits",
      template: {
        driver: "process",
        command: [process.execPath, "-e", "process.exit(3)", String(port)],
        health: `http://127.0.0.1:${port}/health`,
        startTimeoutMs: 10_000,
        restarts: 3,
        restartWindowMs: 600_000,
        stopGraceMs: 1_000,
      },
      path: process.env.PATH,
      log: silent,
    });
    return { driver, running: () => childrenWith(String(port)).length > 0 };
  },
});

const never = () => new AbortController().signal;
const pidOf = async (url: string) => ((await (await fetch(url)).json()) as { pid: number }).pid;

test("a program that exits before it is healthy fails the provisioning with its exit code", async () => {
  const port = await freePort();
  const driver = new ProcessDriver({
    name: "exits",
    template: { driver: "process", command: [process.execPath, "-e", "process.exit(3)"], health: `http://127.0.0.1:${port}/`, startTimeoutMs: 10_000, restarts: 3, restartWindowMs: 600_000, stopGraceMs: 1_000 },
    path: process.env.PATH,
    log: silent,
  });
  await assert.rejects(driver.provision(never(), () => {}), /exited with code 3 before it answered http:\/\/127\.0\.0\.1:\d+\//);
});

test("a program that never gets healthy fails after startTimeoutMs, and is stopped", async () => {
  const { driver, running } = await make({ health: `http://127.0.0.1:${await freePort()}/health`, startTimeoutMs: 500 });
  await assert.rejects(driver.provision(never(), () => {}), /not healthy within 500 ms \(http:\/\/127\.0\.0\.1:\d+\/health did not answer/);
  assert.equal(running(), false);
});

test("a program that cannot be started fails the provisioning and says why", async () => {
  const { driver } = await make({ command: ["/nonexistent/flotilla-no-such-program"] });
  await assert.rejects(driver.provision(never(), () => {}), /could not be started: spawn \/nonexistent\/flotilla-no-such-program ENOENT/);
});

test("aborted while its program runs but is not healthy yet: the program is stopped", async () => {
  // Its health URL is another port, so it never gets healthy on its own.
  const { log, listening } = listeningLog();
  const { driver, port } = await make({ health: `http://127.0.0.1:${await freePort()}/health`, startTimeoutMs: 60_000 }, [], log);
  const controller = new AbortController();
  const provisioning = driver.provision(controller.signal, () => {});
  // Aborted once the program says it listens: it surely runs then.
  await listening();
  assert.equal(childrenWith(String(port)).length, 1);
  const reason = new Error("released");
  controller.abort(reason);
  await assert.rejects(provisioning, (err) => err === reason);
  assert.deepEqual(childrenWith(String(port)), []);
});

test("its environment is PATH and the template's variables, nothing else of the agent's", async () => {
  process.env.FLOTILLA_SECRET_FOR_TEST = "not for children";
  const { driver, url } = await make({ env: { GREETING: "hello" }, cwd: "/" });
  try {
    await driver.provision(never(), () => {});
    const env = (await (await fetch(url("/env"))).json()) as Record<string, string>;
    assert.deepEqual(Object.keys(env).sort(), ["GREETING", "PATH"]);
    assert.equal(env.GREETING, "hello");
    assert.equal(env.PATH, process.env.PATH);
  } finally {
    delete process.env.FLOTILLA_SECRET_FOR_TEST;
    await driver.stop();
  }
});

test("its stdout and stderr go to the log at debug level, line by line", async () => {
  const lines: { stream: string; line: string }[] = [];
  let notify: () => void = () => {};
  const bothSeen = new Promise<void>((resolve) => (notify = resolve));
  const log: WorkloadLog = {
    ...silent,
    debug: (fields, message) => {
      assert.equal(message, "workload output");
      lines.push(fields as { stream: string; line: string });
      if (new Set(lines.map((l) => l.stream)).size === 2) notify();
    },
  };
  const { driver, port } = await make({}, [], log);
  try {
    await driver.provision(never(), () => {});
    await bothSeen;
    assert.deepEqual(
      lines.map(({ stream, line }) => ({ stream, line })).sort((a, b) => a.stream.localeCompare(b.stream)),
      [
        { stream: "stderr", line: "fixture stderr says hello" },
        { stream: "stdout", line: `fixture listening on ${port}` },
      ],
    );
  } finally {
    await driver.stop();
  }
});

test("a crash after provisioning is restarted, and it is healthy again", async () => {
  const { log, listening } = listeningLog();
  const { driver, url } = await make({ restarts: 2 }, [], log);
  const failures: string[] = [];
  driver.onFailure((message) => failures.push(message));
  try {
    await driver.provision(never(), () => {});
    const before = await pidOf(url("/health"));
    const restarted = new Promise<number | undefined>((resolve) => driver.onRestart(resolve));
    await fetch(url("/crash"));
    const pid = await restarted;
    assert.ok(pid !== undefined && pid !== before, "a new process");
    assert.equal(alive(before), false);
    assert.equal(await listening(before), pid, "the new process listens");
    assert.deepEqual(await driver.health(), { ok: true });
    assert.equal(await pidOf(url("/health")), pid);
    assert.deepEqual(failures, []);
  } finally {
    await driver.stop();
  }
});

test("past its restart budget the workload fails: onFailure fires once and health says why", async () => {
  const { log, listening } = listeningLog();
  const { driver, url, running } = await make({ restarts: 1 }, [], log);
  const failed = new Promise<string>((resolve) => driver.onFailure(resolve));
  let failures = 0;
  driver.onFailure(() => failures++);
  try {
    await driver.provision(never(), () => {});
    const first = await pidOf(url("/health"));
    await fetch(url("/crash"));
    await listening(first);
    // The restarted program crashes too: that is one exit more than the budget.
    await fetch(url("/crash"));
    const message = await failed;
    assert.match(message, /exited with code 1, after 1 restart\(s\) within 600 s, its budget/);
    assert.deepEqual(await driver.health(), { ok: false, message });
    assert.equal(failures, 1);
    assert.equal(running(), false, "it is not started again");
  } finally {
    await driver.stop();
  }
});

test("a program over its memory limit is killed, and counts as a crash against its budget", async () => {
  const { driver, url, running } = await make({ restarts: 0, maxMemoryMiB: 200 });
  const failed = new Promise<string>((resolve) => driver.onFailure(resolve));
  try {
    await driver.provision(never(), () => {});
    assert.deepEqual(await driver.health(), { ok: true }, "under its limit at start");
    await fetch(url("/grow"));
    const message = await failed;
    assert.match(message, /was killed: it used \d+ MiB, over its 200 MiB limit, after 0 restart\(s\)/);
    assert.equal(running(), false);
  } finally {
    await driver.stop();
  }
});

test("a program that ignores SIGTERM is killed after stopGraceMs", async () => {
  const { driver, running } = await make({ stopGraceMs: 300 }, ["--ignore-sigterm"]);
  await driver.provision(never(), () => {});
  const started = performance.now();
  await driver.stop();
  assert.ok(performance.now() - started >= 290, "it waited out the grace period");
  assert.equal(running(), false);
});

test("stopping it stops what it started (its process group)", async () => {
  const { driver, url } = await make({}, ["--spawn-child"]);
  await driver.provision(never(), () => {});
  const child = ((await (await fetch(url("/child"))).json()) as { pid: number }).pid;
  assert.equal(alive(child), true);
  await driver.stop();
  // The grandchild is reaped by init, not by us: wait for it to be gone, as the kernel reports it.
  while (alive(child)) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(alive(child), false);
});
