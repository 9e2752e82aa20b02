// The benchmark code must keep working: its smoke mode runs every suite for a
// few seconds. Only that it runs and reports is checked here, never a timing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { REPO_ROOT } from "@flotilla/testkit";

test("npm run bench -- --mode smoke runs every suite and prints its table", async () => {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, "bench/bench.ts"), "--mode", "smoke"], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const [code] = (await once(child, "exit")) as [number | null];
  assert.equal(code, 0, stderr);
  assert.match(stdout, /\| footprint \| agent idle RSS, no model \| \d+\.\d MB \(own \d+\.\d MB\) \|/);
  assert.match(stdout, /\| footprint \| coordinator RSS, 10 nodes heartbeating \| \d+\.\d MB \(own \d+\.\d MB\) \|/);
});
