// kill -9 loses no accepted job: a child process enqueues and says so after
// each enqueue resolves; it is SIGKILLed mid-stream, and reopening the file
// finds every job it said was accepted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { SqliteJobQueue } from "./sqlite-job-queue.ts";

const child = path.join(import.meta.dirname, "testing", "enqueue-until-killed.ts");

test("every job a killed process said was accepted is there when the file is reopened", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-jobs-kill-"));
  const file = path.join(dir, "jobs.db");
  try {
    const proc = spawn(process.execPath, [child, file], { stdio: ["ignore", "pipe", "inherit"] });
    const exited = once(proc, "exit");
    const accepted: string[] = [];
    const lines = createInterface({ input: proc.stdout });
    for await (const line of lines) {
      const id = /^accepted (\S+)$/.exec(line)?.[1];
      if (id !== undefined) accepted.push(id);
      // Killed while it is still enqueueing, not between runs.
      if (accepted.length === 200) proc.kill("SIGKILL");
    }
    const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    assert.equal(signal, "SIGKILL", `the child exited by itself (code ${code})`);

    const queue = new SqliteJobQueue(file);
    try {
      for (const id of accepted) assert.equal((await queue.get(id))?.state, "queued", `job ${id} was lost`);
      assert.ok((await queue.counts("brain")).queued >= accepted.length);
    } finally {
      await queue.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
