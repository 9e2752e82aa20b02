// One coordinator per data directory. Two on the same SQLite file would each
// trust their own in-memory view (nodes, keys, credentials) and overwrite the
// other's writes. The lock is a file holding the owner's PID, created with
// O_EXCL so that of two starting at once exactly one wins. A lock left by a
// process that no longer runs (kill -9, a crash, a reboot) is stale and taken
// over, so a restart never needs an operator.
import { open, readFile, unlink } from "node:fs/promises";
import path from "node:path";

export const DATA_DIR_LOCK_FILE = "coordinator.lock";

export type LockHolder = { kind: "none" } | { kind: "running"; pid: number } | { kind: "stale" };

/** Whether the lock file's text names a process that still holds the lock. */
export function lockHolder(text: string | undefined, isRunning: (pid: number) => boolean): LockHolder {
  if (text === undefined) return { kind: "none" };
  const pid = Number(text.trim());
  // Unreadable content cannot name a live owner: a half-written file from a
  // crash between create and write is stale too.
  if (!Number.isSafeInteger(pid) || pid <= 0) return { kind: "stale" };
  return isRunning(pid) ? { kind: "running", pid } : { kind: "stale" };
}

export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, under another user.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The lock files this process holds. */
const heldHere = new Set<string>();

export interface DataDirLock {
  release(): Promise<void>;
}

/** Takes the data directory's lock, or throws saying which process holds it. */
export async function lockDataDir(dataDir: string, isRunning: (pid: number) => boolean = processRuns): Promise<DataDirLock> {
  const file = path.resolve(dataDir, DATA_DIR_LOCK_FILE);
  // Our own PID in the file is ours only if this process took the lock: a
  // container restarts its coordinator under the same PID (often 1) after a
  // crash, and must not find itself locked out.
  const holds = (pid: number) => (pid === process.pid ? heldHere.has(file) : isRunning(pid));
  // Twice at most: once, and once more after removing a stale lock.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, "wx", 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      heldHere.add(file);
      return {
        release: async () => {
          heldHere.delete(file);
          await unlink(file).catch(() => undefined);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = lockHolder(await readIfExists(file), holds);
    if (holder.kind === "running") {
      throw new Error(
        `another coordinator (PID ${holder.pid}) is using the data directory ${dataDir}; ` +
          `stop it first, or give this one its own --data-dir. If no coordinator runs, delete ${file}`,
      );
    }
    if (holder.kind === "stale") await unlink(file).catch(() => undefined);
  }
  throw new Error(`could not lock the data directory ${dataDir}: ${file} keeps reappearing; is another coordinator starting?`);
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
