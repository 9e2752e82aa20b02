import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DATA_DIR_LOCK_FILE, lockDataDir, lockHolder } from "./data-dir-lock.ts";

test("a lock file names a running owner, or is stale", () => {
  const runs = (pid: number) => pid === 4242;
  assert.deepEqual(lockHolder(undefined, runs), { kind: "none" });
  assert.deepEqual(lockHolder("4242\n", runs), { kind: "running", pid: 4242 });
  assert.deepEqual(lockHolder("4243\n", runs), { kind: "stale" });
  assert.deepEqual(lockHolder("", runs), { kind: "stale" }, "a crash between create and write");
  assert.deepEqual(lockHolder("not a pid", runs), { kind: "stale" });
});

test("a second lock on the same directory is refused while the first is held; released, it is free again", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-lock-"));
  try {
    const first = await lockDataDir(dir);
    assert.equal((await readFile(path.join(dir, DATA_DIR_LOCK_FILE), "utf8")).trim(), String(process.pid));
    await assert.rejects(lockDataDir(dir), /another coordinator \(PID \d+\) is using the data directory/);
    await first.release();
    const second = await lockDataDir(dir);
    await second.release();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a lock left by a process that no longer runs, or by this PID in an earlier life, is taken over", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-lock-"));
  try {
    await writeFile(path.join(dir, DATA_DIR_LOCK_FILE), "4243\n");
    const taken = await lockDataDir(dir, () => false);
    await taken.release();
    // A container restarts its coordinator under the same PID.
    await writeFile(path.join(dir, DATA_DIR_LOCK_FILE), `${process.pid}\n`);
    const again = await lockDataDir(dir);
    await again.release();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
