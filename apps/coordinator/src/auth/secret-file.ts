// Secrets the coordinator itself must present or derive from (the admin key,
// the cluster secret) live in files in the data directory, readable only by
// their owner, like an SSH private key: they cannot be stored hashed.
import { chmod, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { generateSecret, type SecretKind } from "@flotilla/security";

export async function loadOrCreateSecretFile(dataDir: string, fileName: string, kind: SecretKind): Promise<string> {
  const existing = await readSecretFile(dataDir, fileName);
  if (existing) return existing;
  const file = path.join(dataDir, fileName);
  // `wx`: never overwrite a secret another process wrote a moment ago.
  await writeFile(file, `${generateSecret(kind)}\n`, { mode: 0o600, flag: "wx" }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "EEXIST") throw err;
  });
  await chmod(file, 0o600);
  const written = await readSecretFile(dataDir, fileName);
  if (!written) throw new Error(`could not read the secret back from ${file}`);
  return written;
}

export async function readSecretFile(dataDir: string, fileName: string): Promise<string | undefined> {
  try {
    const file = path.join(dataDir, fileName);
    const secret = (await readFile(file, "utf8")).trim();
    // One written by hand (or by an older version) may be 0644: a secret is
    // the owner's alone whoever created it.
    if (secret !== "") await restrictIfOwned(file);
    return secret === "" ? undefined : secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** chmod 0600, unless another user owns the file (a key shared read-only by root): that is theirs to set. */
async function restrictIfOwned(file: string): Promise<void> {
  if (process.platform === "win32") return;
  const { uid, mode } = await stat(file);
  if ((mode & 0o077) !== 0 && uid === process.getuid?.()) await chmod(file, 0o600);
}
