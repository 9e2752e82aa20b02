// The database holds conversations and key hashes: it and the files SQLite
// makes beside it (-wal, -shm) are the owner's alone, even in a directory
// others can read and under a umask that would allow more (ADR 0025).
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmod, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { SqliteStore } from "./sqlite-store.ts";

const skip = process.platform === "win32";

async function modes(dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const name of await readdir(dir)) out[name] = (await stat(path.join(dir, name))).mode & 0o777;
  return out;
}

/** One write, so that SQLite has made its WAL. */
async function writeRecord(store: SqliteStore): Promise<void> {
  await store.apiKeys.add({ id: "k1", name: "a", prefix: "flt_abc", createdAtMs: 0 }, "hash");
}

test("a new database and its WAL files are 0600 in a 0755 directory", { skip }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-modes-"));
  await chmod(dir, 0o755);
  const previous = process.umask(0o022);
  try {
    const store = new SqliteStore(path.join(dir, "flotilla.db"));
    await writeRecord(store);
    const found = await modes(dir);
    assert.ok("flotilla.db-wal" in found && "flotilla.db-shm" in found, `the WAL files are there to check: ${Object.keys(found).join(", ")}`);
    assert.deepEqual(found, { "flotilla.db": 0o600, "flotilla.db-wal": 0o600, "flotilla.db-shm": 0o600 });
    await store.close();
  } finally {
    process.umask(previous);
    await rm(dir, { recursive: true, force: true });
  }
});

test("a database an older version left 0644, with its WAL, is narrowed to 0600 when opened", { skip }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-modes-"));
  const previous = process.umask(0o022);
  try {
    const file = path.join(dir, "flotilla.db");
    const first = new SqliteStore(file);
    await writeRecord(first);
    await first.close();
    await chmod(file, 0o644);
    await writeFile(`${file}-wal`, "");
    await chmod(`${file}-wal`, 0o644);
    const second = new SqliteStore(file);
    for (const [name, mode] of Object.entries(await modes(dir))) assert.equal(mode, 0o600, name);
    await second.close();
  } finally {
    process.umask(previous);
    await rm(dir, { recursive: true, force: true });
  }
});
