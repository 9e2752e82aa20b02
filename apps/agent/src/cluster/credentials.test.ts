import { test } from "node:test";
import assert from "node:assert/strict";
import { chmod, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadCredentials, saveCredentials, type SavedCredentials } from "./credentials.ts";

const credentials: SavedCredentials = {
  coordinatorUrl: "http://10.0.0.1:8080",
  nodeId: "n1",
  name: "desk-1",
  nodeCredential: "flt_node_secret",
  coordinatorCredentialHash: "abc",
};

test("the credentials file is 0600 in a 0755 directory, even over leftovers that were 0644", { skip: process.platform === "win32" }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-credentials-"));
  await chmod(dir, 0o755);
  try {
    // What an interrupted save of an older version, or a careless copy, leaves behind.
    for (const name of ["agent-credentials.json", "agent-credentials.json.tmp"]) {
      await writeFile(path.join(dir, name), "{}");
      await chmod(path.join(dir, name), 0o644);
    }
    await saveCredentials(dir, credentials);
    assert.equal((await stat(path.join(dir, "agent-credentials.json"))).mode & 0o777, 0o600);
    assert.deepEqual(await loadCredentials(dir), credentials);
    assert.ok(!(await readdir(dir)).some((name) => name.endsWith(`.${process.pid}.tmp`)), "no temporary file is left");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
