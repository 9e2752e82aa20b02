// How the speech engines run their programs (espeak-ng, sox, opusenc,
// pocketsphinx): spawned directly with a fixed argument list, never through
// a shell, so no client text can become an option or a command. Audio goes
// through files in a private temp dir; stdin carries text. Aborting kills
// the child, and the promise settles only once it has exited, so a caller
// that removes its temp dir afterwards never races a program still writing.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

/** A program and the Debian package that installs it, named when it is missing. */
export interface Program {
  readonly file: string;
  readonly debianPackage: string;
}

export const SOX: Program = { file: "sox", debianPackage: "sox (and libsox-fmt-mp3 for mp3)" };
export const OPUSENC: Program = { file: "opusenc", debianPackage: "opus-tools" };
export const OPUSDEC: Program = { file: "opusdec", debianPackage: "opus-tools" };

export interface RunOptions {
  signal: AbortSignal;
  /** Written to the program's stdin, which is then closed; without it stdin is empty. */
  stdin?: Buffer;
}

export interface ProgramResult {
  /** The exit code; null when a signal ended it. */
  code: number | null;
  stdout: string;
  /** The first STDERR_LIMIT bytes: enough for an error message, bounded against a chatty program. */
  stderr: string;
}

const STDERR_LIMIT = 4 * 1024;
/** The most a program may print: pocketsphinx prints a line a word, far below this. */
const STDOUT_LIMIT = 4 * 1024 * 1024;

/**
 * Runs `program` to its end. Rejects with the signal's reason when aborted,
 * with an Error naming the Debian package when the program is missing; a
 * non-zero exit resolves, for the caller to judge (see `check`).
 */
export function runProgram(program: Program, args: readonly string[], options: RunOptions): Promise<ProgramResult> {
  const { signal } = options;
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const child = spawn(program.file, args, { stdio: ["pipe", "pipe", "pipe"], windowsHide: true });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = "";
    let failure: Error | undefined;
    const stop = (reason: Error): void => {
      failure ??= reason;
      child.kill("SIGKILL");
    };
    // abort() gives a DOMException named AbortError, which is an Error.
    const onAbort = (): void => stop(signal.reason instanceof Error ? signal.reason : new Error("aborted", { cause: signal.reason }));
    signal.addEventListener("abort", onAbort, { once: true });

    child.stdout.on("data", (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > STDOUT_LIMIT) stop(new Error(`${program.file} printed more than ${STDOUT_LIMIT} bytes`));
      else stdout.push(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      if (stderr.length < STDERR_LIMIT) stderr += chunk.toString("utf8", 0, STDERR_LIMIT - stderr.length);
    });
    // A program that exits without reading all of stdin (sox refusing a
    // file) breaks the pipe: its exit code says what happened, not EPIPE.
    child.stdin.on("error", () => {});
    child.stdin.end(options.stdin ?? Buffer.alloc(0));

    child.on("error", (err: NodeJS.ErrnoException) => {
      failure ??= err.code === "ENOENT" ? missing(program) : err;
      if (child.pid === undefined) settle(null); // it never started, so no "close" need follow
    });
    child.on("close", (code) => settle(code));

    let settled = false;
    function settle(code: number | null): void {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      if (failure !== undefined) reject(failure);
      else resolve({ code, stdout: Buffer.concat(stdout).toString("utf8"), stderr });
    }
  });
}

/** Throws an Error with the program's own message unless it exited with 0. */
export function check(program: Program, result: ProgramResult): void {
  if (result.code === 0) return;
  const why = result.stderr.trim() || `exit code ${String(result.code)}`;
  throw new Error(`${program.file} failed: ${why}`);
}

function missing(program: Program): Error {
  return new Error(`${program.file} is not installed: install the Debian package ${program.debianPackage}`);
}

/** Runs `work` with a fresh private directory (mode 0700), removed afterwards whatever happens. */
export async function withTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-speech-"));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
