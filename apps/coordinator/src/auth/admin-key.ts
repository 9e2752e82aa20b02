// The admin credential for the cluster API and the CLI: FLOTILLA_ADMIN_KEY
// when set, else generated on first start into the data directory, readable
// only by its owner, so the CLI on the same machine finds it.
import { loadOrCreateSecretFile, readSecretFile } from "./secret-file.ts";

export const ADMIN_KEY_FILE = "admin.key";

export async function loadOrCreateAdminKey(dataDir: string, fromEnv: string | undefined): Promise<string> {
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  return loadOrCreateSecretFile(dataDir, ADMIN_KEY_FILE, "admin");
}

export function readAdminKey(dataDir: string): Promise<string | undefined> {
  return readSecretFile(dataDir, ADMIN_KEY_FILE);
}
