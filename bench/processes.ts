// The processes of the gateway benchmarks: starting a bench script that says
// `listening PORT`, stopping what was started, and reading a process's CPU
// time precisely enough for per-request figures.
import { spawn, type ChildProcess } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { connect } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { REPO_ROOT, stopChild } from "@flotilla/testkit";

export interface Started {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

/** Runs `bench/<script>` with Node and waits for its `listening PORT` line. */
export async function startScript(script: string, args: string[]): Promise<Started> {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, "bench", script), ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      const match = /listening (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code} before listening`)));
  });
  return { pid: pidOf(child), port, stop: () => stopChild(child, 2_000) };
}

export function pidOf(child: ChildProcess): number {
  if (child.pid === undefined) throw new Error("process has no pid");
  return child.pid;
}

/** Resolves once something accepts TCP connections on the loopback port. */
export async function waitForPort(port: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => (socket.destroy(), resolve(true)));
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port}`);
    await sleep(20);
  }
}

/**
 * CPU time of a process and its children (nginx's worker), in nanoseconds:
 * the sum over every thread of the first field of /proc/…/schedstat, which
 * counts in ns where /proc/…/stat counts in 10 ms clock ticks.
 */
export async function cpuNs(pid: number): Promise<number> {
  let total = 0;
  const tasks = await readdir(`/proc/${pid}/task`);
  for (const tid of tasks) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/schedstat`, "utf8").catch(() => "0");
    total += Number(stat.split(" ")[0]);
    const children = await readFile(`/proc/${pid}/task/${tid}/children`, "utf8").catch(() => "");
    for (const child of children.split(" ").filter((c) => c !== "")) total += await cpuNs(Number(child)).catch(() => 0);
  }
  return total;
}
