import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { JOIN_TOKEN_ENV, takeJoinToken, withoutTokenValues } from "./join-token-source.ts";

test("the token comes from the file, trimmed, with no warning; the variable is removed either way", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-token-file-"));
  try {
    const file = path.join(dir, "join.token");
    await writeFile(file, "flt_join_from_file\n");
    const env: NodeJS.ProcessEnv = { [JOIN_TOKEN_ENV]: "flt_join_from_env" };
    assert.deepEqual(await takeJoinToken({ token: undefined, tokenFile: file }, env), { token: "flt_join_from_file", warning: undefined });
    assert.equal(env[JOIN_TOKEN_ENV], undefined, "model servers must not inherit it");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the variable is used when no flag gives a token", async () => {
  const env: NodeJS.ProcessEnv = { [JOIN_TOKEN_ENV]: " flt_join_from_env " };
  assert.deepEqual(await takeJoinToken({ token: undefined, tokenFile: undefined }, env), { token: "flt_join_from_env", warning: undefined });
  assert.deepEqual(await takeJoinToken({ token: undefined, tokenFile: undefined }, {}), { token: undefined, warning: undefined });
});

test("--token works but warns that ps shows it", async () => {
  const source = await takeJoinToken({ token: "flt_join_on_argv", tokenFile: undefined }, {});
  assert.equal(source.token, "flt_join_on_argv");
  assert.match(source.warning ?? "", /visible to every user of this machine \(ps\); prefer --token-file FILE or FLOTILLA_JOIN_TOKEN/);
});

test("a missing, empty or multi-word token file and both flags at once are clear errors", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-token-file-"));
  try {
    await assert.rejects(takeJoinToken({ token: undefined, tokenFile: path.join(dir, "absent") }, {}), /cannot read the join token from --token-file/);
    const empty = path.join(dir, "empty");
    await writeFile(empty, "\n");
    await assert.rejects(takeJoinToken({ token: undefined, tokenFile: empty }, {}), /must hold one join token/);
    const two = path.join(dir, "two");
    await writeFile(two, "flt_join_a flt_join_b\n");
    await assert.rejects(takeJoinToken({ token: undefined, tokenFile: two }, {}), /must hold one join token/);
    await assert.rejects(takeJoinToken({ token: "flt_join_a", tokenFile: empty }, {}), /not both/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the process title blanks every --token value", () => {
  assert.deepEqual(withoutTokenValues(["agent", "--token", "flt_join_x", "--name", "a", "--token=flt_join_y"]), [
    "agent",
    "--token",
    "***",
    "--name",
    "a",
    "--token=***",
  ]);
});
