// The one conformance suite for workload drivers (issue 17): what the
// assignment keeper relies on, run against each driver on what it really
// runs (the test model in llama.cpp, a real program, a real podman
// container), or, for Nomad, which cannot run here, a named stand-in of its
// HTTP API whose task is a real program. A new driver passes this before
// the keeper may use it.
//
// "Running" is seen from outside the driver, by the subject: the agent's
// list of models, the test process's children in /proc, podman's `ps`, the
// stand-in's live task processes. A driver that says
// it stopped while its workload still runs fails here.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { WorkloadDriver } from "./workload-driver.ts";

export interface DriverUnderTest {
  driver: WorkloadDriver;
  /** Whether anything this driver started still runs. */
  running: () => Promise<boolean> | boolean;
}

export interface ConformanceSubject {
  /** A new driver of a template that provisions; each call its own instance, which may run beside another's. */
  working: () => Promise<DriverUnderTest> | DriverUnderTest;
  /** A new driver of a template whose provisioning fails (a file that is no model, a program that exits at once). */
  failing: () => Promise<DriverUnderTest> | DriverUnderTest;
}

const ignore = () => {};

export function workloadDriverConformance(kind: WorkloadDriver["kind"], subject: ConformanceSubject): void {
  /** Runs `body` with a fresh driver, and stops and cleans it up whatever happens. */
  const withDriver = (make: () => Promise<DriverUnderTest> | DriverUnderTest, body: (under: DriverUnderTest) => Promise<void>) => async () => {
    const under = await make();
    try {
      await body(under);
    } finally {
      await under.driver.stop();
      await under.driver.cleanup();
    }
  };

  describe(`WorkloadDriver conformance: ${kind}`, () => {
    test("its kind is the one named", withDriver(subject.working, ({ driver }) => {
      assert.equal(driver.kind, kind);
      return Promise.resolve();
    }));

    test("provision reports progress from 0 up to 1, then it is healthy and running", withDriver(subject.working, async ({ driver, running }) => {
      const fractions: number[] = [];
      await driver.provision(new AbortController().signal, (fraction, message) => {
        assert.ok(message.length > 0, "each report says what it does");
        fractions.push(fraction);
      });
      assert.ok(fractions.length >= 2, `progress was reported ${fractions.length} time(s)`);
      assert.equal(fractions[0], 0);
      assert.equal(fractions.at(-1), 1);
      assert.deepEqual(fractions, fractions.toSorted((a, b) => a - b), "progress never goes back");
      assert.deepEqual(await driver.health(), { ok: true });
      assert.equal(await running(), true);
    }));

    test("stopped, it is not healthy and nothing runs; cleanup after that is fine", withDriver(subject.working, async ({ driver, running }) => {
      await driver.provision(new AbortController().signal, ignore);
      await driver.stop();
      assert.equal(await running(), false);
      const health = await driver.health();
      assert.equal(health.ok, false);
      assert.ok(!health.ok && health.message.length > 0, "an unhealthy answer says why");
      await driver.cleanup();
      assert.equal(await running(), false);
    }));

    test("stop is idempotent: twice at once, and again later", withDriver(subject.working, async ({ driver, running }) => {
      await driver.provision(new AbortController().signal, ignore);
      await Promise.all([driver.stop(), driver.stop()]);
      await driver.stop();
      assert.equal(await running(), false);
    }));

    test("stop and cleanup before any provisioning are fine", withDriver(subject.working, async ({ driver, running }) => {
      await driver.stop();
      await driver.cleanup();
      assert.equal(await running(), false);
    }));

    test("a signal aborted before provisioning: it rejects with the signal's reason and starts nothing", withDriver(subject.working, async ({ driver, running }) => {
      const controller = new AbortController();
      const reason = new Error("released before it began");
      controller.abort(reason);
      await assert.rejects(driver.provision(controller.signal, ignore), (err) => err === reason);
      assert.equal(await running(), false);
    }));

    test("aborted while provisioning: it rejects with the reason and leaves nothing running", withDriver(subject.working, async ({ driver, running }) => {
      const controller = new AbortController();
      const reason = new Error("released while provisioning");
      await assert.rejects(
        driver.provision(controller.signal, () => controller.abort(reason)),
        (err) => err === reason,
      );
      assert.equal(await running(), false);
      await driver.cleanup();
      assert.equal(await running(), false);
    }));

    test("a failed provision rejects with a message, leaves nothing running, and stop and cleanup after it are fine", withDriver(subject.failing, async ({ driver, running }) => {
      await assert.rejects(driver.provision(new AbortController().signal, ignore), (err) => err instanceof Error && err.message.length > 0);
      assert.equal(await running(), false);
      assert.equal((await driver.health()).ok, false);
      await driver.stop();
      await driver.cleanup();
      assert.equal(await running(), false);
    }));

    test("a driver provisions once: a second provision is refused", withDriver(subject.working, async ({ driver }) => {
      await driver.provision(new AbortController().signal, ignore);
      await assert.rejects(driver.provision(new AbortController().signal, ignore), /provisions once/);
      assert.deepEqual(await driver.health(), { ok: true }, "the refused call did not touch the running workload");
    }));

    test("once stopped and cleaned up, the same template provisions again with a new driver", async () => {
      for (let round = 0; round < 2; round++) {
        const { driver, running } = await subject.working();
        try {
          await driver.provision(new AbortController().signal, ignore);
          assert.equal(await running(), true, `round ${round}`);
        } finally {
          await driver.stop();
          await driver.cleanup();
        }
        assert.equal(await running(), false, `round ${round}`);
      }
    });
  });
}
