// The README's two commands, run as written: the first starts a working
// one-machine cluster; the second is what .ci/run executes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import OpenAI from "openai";
import { freePort, REPO_ROOT, TEST_MODEL_ID } from "@flotilla/testkit";

async function readmeCommands(): Promise<[string, string]> {
  const readme = await readFile(path.join(REPO_ROOT, "README.md"), "utf8");
  const block = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
  const lines = block.split("\n").map((l) => l.replace(/\s+#.*$/, "").trim()).filter((l) => l !== "");
  assert.equal(lines.length, 2, "the README opens with exactly two commands");
  return [lines[0] ?? "", lines[1] ?? ""];
}

test(".ci/run runs exactly the README's test command", async () => {
  const [, testCommand] = await readmeCommands();
  const ci = await readFile(path.join(REPO_ROOT, ".ci/run"), "utf8");
  assert.ok(ci.split("\n").includes(testCommand), `.ci/run contains the line: ${testCommand}`);
});

test("the README's first command brings up a cluster that answers an OpenAI client", async () => {
  const [upCommand] = await readmeCommands();
  assert.match(upCommand, /^npm ci && npx flotilla up\b/);
  // `npm ci` already ran (it is how this suite started); run the rest as written.
  const command = upCommand.slice("npm ci && ".length);
  const port = await freePort();
  const dataDir = await mkdtemp(path.join(tmpdir(), "flotilla-readme-"));
  const child = spawn("bash", ["-c", `exec ${command}`], {
    cwd: REPO_ROOT,
    env: { ...process.env, FLOTILLA_PORT: String(port), FLOTILLA_DATA_DIR: dataDir, FLOTILLA_THREADS: "1" },
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  try {
    const deadline = Date.now() + 60_000;
    while (!stderr.includes("flotilla is up at")) {
      assert.ok(Date.now() < deadline && child.exitCode === null, `flotilla did not come up:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: "x", maxRetries: 0 });
    const res = await client.chat.completions.create({
      model: TEST_MODEL_ID,
      messages: [{ role: "user", content: "Hello" }],
      max_tokens: 8,
    });
    assert.equal(res.usage?.completion_tokens, 8);
  } finally {
    if (child.pid !== undefined && child.exitCode === null) {
      const exited = once(child, "exit");
      process.kill(-child.pid, "SIGTERM");
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  }
});
