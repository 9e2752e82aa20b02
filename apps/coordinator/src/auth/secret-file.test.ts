import { test } from "node:test";
import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadOrCreateSecretFile, readSecretFile } from "./secret-file.ts";

const skip = process.platform === "win32";

test("a secret file is created 0600 in a 0755 directory, and one left 0644 is narrowed when read", { skip }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-secret-"));
  await chmod(dir, 0o755);
  const previous = process.umask(0o022);
  try {
    const created = await loadOrCreateSecretFile(dir, "cluster.key", "cluster");
    assert.equal((await stat(path.join(dir, "cluster.key"))).mode & 0o777, 0o600);
    const handMade = path.join(dir, "admin.key");
    await writeFile(handMade, "flt_admin_written_by_hand\n");
    await chmod(handMade, 0o644);
    assert.equal(await readSecretFile(dir, "admin.key"), "flt_admin_written_by_hand");
    assert.equal((await stat(handMade)).mode & 0o777, 0o600);
    assert.equal(await loadOrCreateSecretFile(dir, "cluster.key", "cluster"), created, "read back, not replaced");
  } finally {
    process.umask(previous);
    await rm(dir, { recursive: true, force: true });
  }
});
