// `flotilla cluster init` writes a cluster file that describes this machine
// and that the coordinator accepts as written; it never overwrites silently.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadClusterFile } from "@flotilla/coordinator";
import { runCli } from "@flotilla/testkit";

test("cluster init writes a valid, commented cluster file with this machine's hardware", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-init-"));
  try {
    const file = path.join(dir, "cluster.yaml");
    const env = { FLOTILLA_DATA_DIR: dir };
    const first = await runCli(["cluster", "init", file], env);
    assert.equal(first.code, 0, first.stderr);
    const text = await readFile(file, "utf8");
    assert.match(text, /# This machine:/);
    assert.match(text, /hardware_type: (cpu|nvidia|amd|apple_silicon)/);
    assert.match(text, /memory: [\d.]+ GiB total/);
    const loaded = await loadClusterFile(file, {});
    assert.deepEqual(loaded.nodes, []);

    const again = await runCli(["cluster", "init", file], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists; pass --force/);
    const forced = await runCli(["cluster", "init", file, "--force"], env);
    assert.equal(forced.code, 0, forced.stderr);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
