// A real `flotilla coordinator` in a data directory that already existed,
// readable by everyone (0755): it warns at start, and every file it writes
// there — keys, the database and SQLite's own -wal and -shm — is 0600, so
// another user of the machine reads no key and no stored conversation.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmod, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { runCli, startFlotilla } from "@flotilla/testkit";

describe("data directory modes", { skip: process.platform === "win32" }, () => {
  test("every file is 0600 in a 0755 data directory, and the start warns about the directory", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "flotilla-modes-"));
    await chmod(dataDir, 0o755);
    // The admin key from the file, so that it is written there too.
    const fl = await startFlotilla({ command: "coordinator", dataDir, env: { FLOTILLA_ADMIN_KEY: "" } });
    try {
      // A write to the database, through the CLI with the data directory's key (sent: it belongs to this coordinator).
      const created = await runCli(["keys", "create", "--name", "modes"], { FLOTILLA_URL: fl.url, FLOTILLA_DATA_DIR: dataDir, FLOTILLA_ADMIN_KEY: "" });
      assert.equal(created.code, 0, created.stderr);
      const names = await readdir(dataDir);
      for (const expected of ["admin.key", "admin.key.origins", "cluster.key", "flotilla.db", "flotilla.db-wal", "flotilla.db-shm"]) {
        assert.ok(names.includes(expected), `${expected} is among ${names.join(", ")}`);
      }
      for (const name of names) {
        const info = await stat(path.join(dataDir, name));
        if (info.isFile()) assert.equal((info.mode & 0o777).toString(8), "600", name);
      }
      assert.match(fl.stderr(), /the data directory \S+ is open to other users \(mode 0755\)/);
    } finally {
      await fl.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
