// A private redis-server for a test file: a free loopback port, a temp
// directory, nothing saved to disk, stopped after. Never the shared one on
// 6379, so tests in parallel never see each other's keys.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "./ports.ts";

export interface RedisServer {
  url: string;
  stop(): Promise<void>;
}

const READY = /Ready to accept connections/;

export async function startRedisServer(binary = "/usr/bin/redis-server"): Promise<RedisServer> {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-redis-"));
  const port = await freePort();
  const proc: ChildProcess = spawn(binary, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = once(proc, "exit");
  try {
    await new Promise<void>((resolve, reject) => {
      let output = "";
      proc.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (READY.test(output)) resolve();
      });
      proc.once("exit", (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`)));
      proc.once("error", reject);
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGTERM");
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
