// The container driver on a real podman running a real image
// (fixtures/podman-image.ts: busybox httpd in an image imported here, in a
// podman storage of this test's own): the conformance suite, then what a
// container adds: its health URL and environment, what cleanup removes and
// keeps, a container that exits on its own, and images that are missing.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { ContainerDriver } from "./container-driver.ts";
import { makePodmanImage, PODMAN } from "./fixtures/podman-image.ts";
import type { ContainerTemplate } from "./template-config.ts";
import { workloadDriverConformance } from "./workload-driver-conformance.ts";
import type { WorkloadLog } from "./workload-driver.ts";
import { freePort } from "@flotilla/testkit";

const silent: WorkloadLog = { debug: () => {}, info: () => {}, warn: () => {} };
const fixture = makePodmanImage();
after(() => fixture.dispose());

/** The names of this storage's containers: running ones, or (all) every one, stopped included. */
function containers(all = false): string[] {
  return fixture.podman("ps", ...(all ? ["--all"] : []), "--format", "{{.Names}}").split("\n").filter((name) => name.length > 0);
}

interface Made {
  driver: ContainerDriver;
  url: (p: string) => string;
  running: () => boolean;
}

async function make(template: Partial<ContainerTemplate> = {}, name = "fixture"): Promise<Made> {
  const port = await freePort();
  const driver = new ContainerDriver({
    name,
    template: {
      driver: "container",
      engine: PODMAN,
      engineArgs: fixture.engineArgs,
      engineEnv: fixture.engineEnv,
      image: fixture.image,
      command: ["/bin/serve", `127.0.0.1:${port}`],
      health: `http://127.0.0.1:${port}/health`,
      pull: "never",
      pullTimeoutMs: 60_000,
      startTimeoutMs: 20_000,
      stopGraceMs: 5_000,
      ...template,
    },
    engineEnv: { PATH: process.env.PATH },
    log: silent,
  });
  return { driver, url: (p) => `http://127.0.0.1:${port}${p}`, running: () => containers().includes(driver.containerName) };
}

workloadDriverConformance("container", {
  working: () => make(),
  // Its command exits at once, before its health URL could answer.
  failing: () => make({ command: ["/bin/busybox", "false"] }),
});

const never = () => new AbortController().signal;

test("its health URL answers from inside the container, which gets the template's environment", async () => {
  const { driver, url } = await make({ env: { GREETING: "hello world", EMPTY: "" } }, "env-check");
  try {
    await driver.provision(never(), () => {});
    assert.match(driver.containerName, /^flotilla-env-check-[0-9a-f]{8}$/);
    const health = await fetch(url("/health"));
    assert.equal(health.status, 200);
    assert.equal(await health.text(), "ok\n");
    const env = (await (await fetch(url("/env"))).text()).split("\n");
    assert.ok(env.includes("GREETING=hello world"), env.join(", "));
    assert.ok(env.includes("EMPTY="), env.join(", "));
  } finally {
    await driver.stop();
    await driver.cleanup();
  }
});

test("stop and cleanup leave no container, running or not, and keep the image", async () => {
  const { driver } = await make();
  await driver.provision(never(), () => {});
  assert.ok(containers(true).includes(driver.containerName));
  await driver.stop();
  assert.ok(containers(true).includes(driver.containerName), "stopped, it is still there until cleanup");
  assert.ok(!containers().includes(driver.containerName), "but not running");
  await driver.cleanup();
  assert.ok(!containers(true).includes(driver.containerName));
  assert.ok(fixture.podman("image", "inspect", "--format", "{{.Id}}", fixture.image).trim().length > 0, "the image stays, as the cache");
});

test("a container that exits on its own after provisioning fails the workload: onFailure fires once, health says why", async () => {
  const { driver, running } = await make();
  const failed = new Promise<string>((resolve) => driver.onFailure(resolve));
  let failures = 0;
  driver.onFailure(() => failures++);
  try {
    await driver.provision(never(), () => {});
    fixture.podman("kill", driver.containerName);
    const message = await failed;
    assert.match(message, new RegExp(`container ${driver.containerName} \\(${fixture.image}\\) exited with code 137`));
    assert.deepEqual(await driver.health(), { ok: false, message });
    assert.equal(failures, 1);
    assert.equal(running(), false);
  } finally {
    await driver.stop();
    await driver.cleanup();
  }
  assert.ok(!containers(true).includes(driver.containerName));
});

test("aborted while its container runs but is not healthy yet: the container is removed", async () => {
  // Its health URL is another port, so it never gets healthy on its own.
  const { driver } = await make({ health: `http://127.0.0.1:${await freePort()}/health`, startTimeoutMs: 60_000 });
  const controller = new AbortController();
  const reason = new Error("released");
  const provisioning = driver.provision(controller.signal, (_, message) => {
    // Reported once the container was started.
    if (message.startsWith("waiting for")) controller.abort(reason);
  });
  await assert.rejects(provisioning, (err) => err === reason);
  assert.ok(!containers(true).includes(driver.containerName));
});

test("a container that never gets healthy fails after startTimeoutMs, and is removed", async () => {
  const { driver } = await make({ health: `http://127.0.0.1:${await freePort()}/health`, startTimeoutMs: 500 });
  await assert.rejects(driver.provision(never(), () => {}), /not healthy within 500 ms \(http:\/\/127\.0\.0\.1:\d+\/health did not answer/);
  assert.ok(!containers(true).includes(driver.containerName));
});

test("an image that is not in the store, with pull never, fails the provisioning saying so, and starts nothing", async () => {
  const missing = "localhost/flotilla-no-such-image:1";
  const { driver } = await make({ image: missing, pull: "never" });
  await assert.rejects(
    driver.provision(never(), () => {}),
    /image localhost\/flotilla-no-such-image:1 is not in the engine's store and the template's pull is "never" \(.*image not known\)/,
  );
  assert.ok(!containers(true).includes(driver.containerName));
});

test("an image that is not in the store, with pull missing, is pulled: a registry that does not answer fails it, saying why", async () => {
  // Nothing listens on this port: the pull fails at once, as it would for a registry that is down.
  const { driver } = await make({ image: `127.0.0.1:${await freePort()}/flotilla-no-such-image:1`, pull: "missing" });
  const messages: string[] = [];
  await assert.rejects(driver.provision(never(), (_, message) => messages.push(message)), /could not pull 127\.0\.0\.1:\d+\/flotilla-no-such-image:1: .*connection refused/);
  assert.ok(messages.some((m) => m.startsWith("pulling ")), messages.join(", "));
  assert.ok(!containers(true).includes(driver.containerName));
});

test("an engine that is not there fails the provisioning naming it", async () => {
  const { driver } = await make({ engine: "/nonexistent/flotilla-no-such-engine" });
  await assert.rejects(driver.provision(never(), () => {}), /could not run \/nonexistent\/flotilla-no-such-engine: spawn \/nonexistent\/flotilla-no-such-engine ENOENT/);
  await driver.cleanup();
});
