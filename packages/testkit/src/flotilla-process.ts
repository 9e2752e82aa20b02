// Starts `flotilla up`, `coordinator` or `agent` as a real OS process, the
// way a user runs it, on a loopback port with its own data directory, and
// stops it afterwards.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { once } from "node:events";
import { REPO_ROOT } from "./test-model.ts";
import { testAdminKey } from "./admin-key.ts";

export const CLI = path.join(REPO_ROOT, "apps/cli/bin/flotilla.js");

export interface FlotillaProcess {
  url: string;
  adminKey: string;
  dataDir: string;
  child: ChildProcess;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  command?: "up" | "coordinator" | "agent";
  /** 0 (the default) picks a free port. */
  port?: number;
  args?: string[];
  env?: Record<string, string>;
  /** Keep this data directory (and do not remove it on stop). */
  dataDir?: string;
  startTimeoutMs?: number;
}

export async function startFlotilla(options: StartOptions = {}): Promise<FlotillaProcess> {
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), "flotilla-test-")));
  const adminKey = options.env?.FLOTILLA_ADMIN_KEY ?? testAdminKey("test");
  const command = options.command ?? "up";
  const child = spawn(
    process.execPath,
    [
      CLI,
      command,
      "--port",
      String(options.port ?? 0),
      // The coordinator alone runs no model, so it has no thread setting.
      ...(command === "coordinator" ? [] : ["--threads", "1"]),
      "--log-level",
      "warn",
      ...(options.args ?? []),
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, FLOTILLA_DATA_DIR: dataDir, FLOTILLA_ADMIN_KEY: adminKey, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => (stderr += chunk));
  child.stdout.resume();

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`flotilla did not start in time:\n${stderr}`)), options.startTimeoutMs ?? 30_000);
    const check = () => {
      const match = /(?:flotilla is up|flotilla agent \S+ is up) at (http:\/\/[^\s,]+)/.exec(stderr);
      if (match?.[1]) {
        clearTimeout(timer);
        child.stderr.off("data", check);
        resolve(match[1]);
      }
    };
    child.stderr.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`flotilla exited with ${code} before it was up:\n${stderr}`));
    });
  });

  return {
    url,
    adminKey,
    dataDir,
    child,
    stderr: () => stderr,
    async stop() {
      await stopChild(child, 5_000);
      if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs the CLI to completion and returns what it printed. */
export async function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}

/** SIGTERM, then SIGKILL after `killAfterMs`; resolves once it has exited. */
export async function stopChild(child: ChildProcess, killAfterMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
  await exited;
  clearTimeout(timer);
}
