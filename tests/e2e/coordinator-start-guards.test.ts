// What a coordinator refuses at start, as the real command sees it: a weak
// FLOTILLA_ADMIN_KEY, and a data directory another coordinator is using.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { access, mkdtemp, rm } from "node:fs/promises";
import { once } from "node:events";
import { tmpdir } from "node:os";
import path from "node:path";
import { startFlotilla } from "@flotilla/testkit";

describe("coordinator start guards", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "flotilla-guards-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("a weak FLOTILLA_ADMIN_KEY stops the start with what a key needs, without echoing it", async () => {
    for (const command of ["coordinator", "up"] as const) {
      await assert.rejects(
        startFlotilla({ command, dataDir: path.join(dir, `weak-${command}`), env: { FLOTILLA_ADMIN_KEY: "a" } }),
        (err: Error) => {
          assert.match(err.message, /exited with 1 before it was up/);
          assert.match(err.message, /FLOTILLA_ADMIN_KEY is too weak: .*at least 32 characters and 128 bits/);
          return true;
        },
      );
    }
  });

  test("a second coordinator on the same data directory is refused; the first's clean stop frees it", async () => {
    const dataDir = path.join(dir, "shared");
    const first = await startFlotilla({ command: "coordinator", dataDir });
    try {
      for (const command of ["coordinator", "up"] as const) {
        await assert.rejects(
          startFlotilla({ command, dataDir }),
          new RegExp(`another coordinator \\(PID ${first.child.pid}\\) is using the data directory`),
        );
      }
    } finally {
      await first.stop();
    }
    await assert.rejects(access(path.join(dataDir, "coordinator.lock")), { code: "ENOENT" }, "a clean stop removes the lock");
    const second = await startFlotilla({ command: "coordinator", dataDir });
    // kill -9 leaves the lock behind; its PID no longer runs, so it is stale.
    const exited = once(second.child, "exit");
    second.child.kill("SIGKILL");
    await exited;
    await access(path.join(dataDir, "coordinator.lock"));
    const third = await startFlotilla({ command: "coordinator", dataDir });
    await third.stop();
  });
});
