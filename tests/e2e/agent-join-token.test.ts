// Where a real agent takes its join token from: a file, the environment, or
// (warned against) the command line, which is then blanked from what `ps`
// shows of the running agent. And the join an agent makes again under its
// own name, proven by its saved credential (ADR 0020).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runCli, startCoordinator, startFlotilla, type FlotillaProcess } from "@flotilla/testkit";

describe("an agent's join token", () => {
  let dir: string;
  let coordinator: FlotillaProcess;
  let adminEnv: Record<string, string>;

  const newToken = async (): Promise<string> => {
    const created = await runCli(["token", "create"], adminEnv);
    assert.equal(created.code, 0, created.stderr);
    return created.stdout.trim();
  };
  const startAgent = (name: string, args: string[], env: Record<string, string> = {}) =>
    startFlotilla({ command: "agent", dataDir: path.join(dir, name), env, args: ["--join", coordinator.url, "--name", name, ...args] });

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "flotilla-join-token-"));
    const started = await startCoordinator({ dir, clusterFile: [], heartbeatIntervalMs: 1_000, label: "join_token" });
    coordinator = started.coordinator;
    adminEnv = { FLOTILLA_ADMIN_KEY: started.adminKey, FLOTILLA_URL: coordinator.url };
  });
  after(async () => {
    await coordinator.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("from --token-file, without a warning", async () => {
    const file = path.join(dir, "join.token");
    await writeFile(file, `${await newToken()}\n`, { mode: 0o600 });
    const agent = await startAgent("from-file", ["--token-file", file]);
    try {
      assert.match(agent.stderr(), /member of http/);
      assert.doesNotMatch(agent.stderr(), /visible to every user/);
    } finally {
      await agent.stop();
    }
  });

  test("from FLOTILLA_JOIN_TOKEN, without a warning", async () => {
    const agent = await startAgent("from-env", [], { FLOTILLA_JOIN_TOKEN: await newToken() });
    try {
      assert.match(agent.stderr(), /member of http/);
      assert.doesNotMatch(agent.stderr(), /visible to every user/);
    } finally {
      await agent.stop();
    }
  });

  test("an agent joining again under its own name (the coordinator's address changed) proves it with its saved credential", async () => {
    const first = await startAgent("moved", [], { FLOTILLA_JOIN_TOKEN: await newToken() });
    await first.stop();
    const otherAddress = coordinator.url.replace("127.0.0.1", "localhost");
    const again = await startFlotilla({
      command: "agent",
      dataDir: path.join(dir, "moved"),
      env: { FLOTILLA_JOIN_TOKEN: await newToken() },
      args: ["--join", otherAddress, "--name", "moved"],
    });
    try {
      assert.match(again.stderr(), new RegExp(`member of ${otherAddress.replace(/[.:/]/g, "\\$&")}`));
    } finally {
      await again.stop();
    }
  });

  test("from --token: joins, warns, and ps no longer shows the token", async () => {
    const token = await newToken();
    const agent = await startAgent("from-argv", ["--token", token]);
    try {
      assert.match(agent.stderr(), /member of http/);
      assert.match(agent.stderr(), /a join token on the command line is visible to every user of this machine \(ps\)/);
      const cmdline = `/proc/${agent.child.pid}/cmdline`;
      if (existsSync(cmdline)) {
        const shown = (await readFile(cmdline, "utf8")).replaceAll("\0", " ");
        assert.match(shown, /flotilla .*agent/);
        assert.ok(!shown.includes(token), `ps shows the token: ${shown}`);
      }
    } finally {
      await agent.stop();
    }
  });
});
