import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ensurePrivateFileSync, exposedDirectoryWarning, restrictIfPresentSync, writePrivateFile } from "./private-files.ts";

const modeOf = async (file: string) => (await stat(file)).mode & 0o777;

async function inOpenDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-private-"));
  await chmod(dir, 0o755);
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("a directory others may enter is named with its mode and the fix; one only its owner may is fine", () => {
  assert.equal(exposedDirectoryWarning("/d", 0o40700), null);
  assert.equal(
    exposedDirectoryWarning("/d", 0o40755),
    "the data directory /d is open to other users (mode 0755); flotilla keeps its own files in it private (0600), but run `chmod 700 /d` so no one else can list or read it",
  );
  assert.match(exposedDirectoryWarning("/d", 0o40710) ?? "", /mode 0710/);
});

test("writePrivateFile: 0600 in an open directory, over a file that was 0644, leaving no temporary file", { skip: process.platform === "win32" }, async () => {
  await inOpenDir(async (dir) => {
    const file = path.join(dir, "secret.json");
    await writeFile(file, "old", { mode: 0o644 });
    await chmod(file, 0o644);
    await writePrivateFile(file, "new\n");
    assert.equal(await readFile(file, "utf8"), "new\n");
    assert.equal(await modeOf(file), 0o600);
    const { readdir } = await import("node:fs/promises");
    assert.deepEqual(await readdir(dir), ["secret.json"]);
  });
});

test("ensurePrivateFileSync creates a file 0600 and narrows an existing one; restrictIfPresentSync ignores a missing one", { skip: process.platform === "win32" }, async () => {
  await inOpenDir(async (dir) => {
    const fresh = path.join(dir, "fresh.db");
    ensurePrivateFileSync(fresh);
    assert.equal(await modeOf(fresh), 0o600);
    const old = path.join(dir, "old.db");
    await writeFile(old, "data");
    await chmod(old, 0o644);
    ensurePrivateFileSync(old);
    assert.equal(await modeOf(old), 0o600);
    assert.equal(await readFile(old, "utf8"), "data", "its content is kept");
    restrictIfPresentSync(path.join(dir, "missing-wal"));
  });
});
