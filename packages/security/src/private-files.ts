// Files holding secrets or private data (keys, an agent's credentials, the
// database with conversations and key hashes) are readable by their owner
// only, whatever directory they are in (ADR 0025). A mode given to open()
// applies only when the file is created and is narrowed by the umask, never
// widened; a file that already existed keeps its mode. So each file is also
// chmod'ed, and a file written whole is written to a fresh temporary file
// first, so it is never readable by others, not even for a moment.
import { chmodSync, closeSync, openSync } from "node:fs";
import { open, rename, rm, stat } from "node:fs/promises";

export const PRIVATE_FILE_MODE = 0o600;

/** Creates `file` empty when it is missing, and makes it 0600 either way. Sync: SQLite opens synchronously. */
export function ensurePrivateFileSync(file: string): void {
  closeSync(openSync(file, "a", PRIVATE_FILE_MODE));
  chmodSync(file, PRIVATE_FILE_MODE);
}

/** Makes `file` 0600 when it exists; nothing when it does not. */
export function restrictIfPresentSync(file: string): void {
  try {
    chmodSync(file, PRIVATE_FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

/**
 * Writes `text` to `file`, replacing it atomically: a temporary file of this
 * process, created exclusively with mode 0600, then renamed over the target.
 */
export async function writePrivateFile(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await rm(temporary, { force: true });
  const handle = await open(temporary, "wx", PRIVATE_FILE_MODE);
  try {
    await handle.chmod(PRIVATE_FILE_MODE);
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
}

/**
 * Why a directory's mode exposes what is in it, or null when only its owner
 * may enter it. Pure. The files in it are 0600 whatever this says; the
 * warning is for the names, and for files other tools put there.
 */
export function exposedDirectoryWarning(dir: string, mode: number): string | null {
  const permissions = mode & 0o777;
  if ((permissions & 0o077) === 0) return null;
  return (
    `the data directory ${dir} is open to other users (mode ${permissions.toString(8).padStart(4, "0")}); ` +
    `flotilla keeps its own files in it private (0600), but run \`chmod 700 ${dir}\` so no one else can list or read it`
  );
}

/** Passes exposedDirectoryWarning's message to `warn` when there is one. Windows has no such modes: nothing there. */
export async function warnIfExposedDirectory(dir: string, warn: (message: string) => void): Promise<void> {
  if (process.platform === "win32") return;
  const message = exposedDirectoryWarning(dir, (await stat(dir)).mode);
  if (message !== null) warn(message);
}
