// One call of a container engine's CLI (podman or docker, which take the
// same subcommands for what the container driver does): argv, never a
// shell; bounded in time; its output kept (the end of it) for the reason
// of a failure. An engine's exit status is the answer, so a call that ran
// resolves whatever its status, and rejects only when it could not run,
// timed out, or was aborted.
import { spawn } from "node:child_process";

export interface Engine {
  /** The CLI's absolute path. */
  program: string;
  /** Global flags, before each subcommand. */
  globalArgs: readonly string[];
  /** Its whole environment. */
  env: Readonly<Record<string, string>>;
}

export interface EngineResult {
  /** The exit status; null when a signal ended it. */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CallOptions {
  timeoutMs: number;
  /** Kills the call and rejects with its reason (a pull the caller gave up on). */
  signal?: AbortSignal;
}

/** Of each stream, only this much of the end is kept: what an error needs, not a pull's whole progress. */
const KEPT_BYTES = 64 * 1024;

export function callEngine(engine: Engine, args: readonly string[], options: CallOptions): Promise<EngineResult> {
  const { signal } = options;
  signal?.throwIfAborted();
  const command = `${engine.program} ${args[0] ?? ""}`;
  return new Promise((resolve, reject) => {
    const child = spawn(engine.program, [...engine.globalArgs, ...args], { env: engine.env, stdio: ["ignore", "pipe", "pipe"] });
    const out = { stdout: "", stderr: "" };
    for (const stream of ["stdout", "stderr"] as const) {
      child[stream].setEncoding("utf8");
      child[stream].on("data", (chunk: string) => (out[stream] = (out[stream] + chunk).slice(-KEPT_BYTES)));
    }
    // Why it was killed, when it was: a timeout, or the signal's reason (whatever that is, as throwIfAborted throws it).
    let killed: { why: unknown } | undefined;
    const end = (why: unknown) => {
      killed ??= { why };
      child.kill("SIGKILL");
    };
    const timer = setTimeout(() => end(new Error(`${command} did not finish within ${options.timeoutMs} ms`)), options.timeoutMs);
    const onAbort = () => end(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    const settle = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    child.once("error", (err) => {
      settle();
      reject(new Error(`could not run ${engine.program}: ${err.message}`));
    });
    // "close", not "exit": the output is complete only once the pipes are.
    child.once("close", (code) => {
      settle();
      if (killed === undefined) resolve({ code, ...out });
      else reject(killed.why instanceof Error ? killed.why : new Error(String(killed.why)));
    });
  });
}

/** What an engine said when it failed: the last line of its stderr, or its exit status. */
export function engineSaid(result: EngineResult): string {
  const last = result.stderr.trim().split("\n").at(-1)?.trim() ?? "";
  const said = last.length > 0 ? last : result.code === null ? "killed by a signal" : `exit status ${result.code}`;
  return said.slice(0, 500);
}
