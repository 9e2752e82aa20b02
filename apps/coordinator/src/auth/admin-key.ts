// The admin credential for the cluster API and the CLI: FLOTILLA_ADMIN_KEY
// when set, else generated on first start into the data directory, readable
// only by its owner, so the CLI on the same machine finds it.
import { chmod, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { generateSecret } from "./secrets.ts";

export const ADMIN_KEY_FILE = "admin.key";

export async function loadOrCreateAdminKey(dataDir: string, fromEnv: string | undefined): Promise<string> {
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const file = path.join(dataDir, ADMIN_KEY_FILE);
  const existing = await readAdminKey(dataDir);
  if (existing) return existing;
  const key = generateSecret("admin");
  // `wx`: never overwrite a key another process wrote a moment ago.
  await writeFile(file, `${key}\n`, { mode: 0o600, flag: "wx" }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "EEXIST") throw err;
  });
  await chmod(file, 0o600);
  const written = await readAdminKey(dataDir);
  if (!written) throw new Error(`could not read the admin key back from ${file}`);
  return written;
}

export async function readAdminKey(dataDir: string): Promise<string | undefined> {
  try {
    const key = (await readFile(path.join(dataDir, ADMIN_KEY_FILE), "utf8")).trim();
    return key === "" ? undefined : key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
