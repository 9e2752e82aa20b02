// What an agent keeps after joining: its node credential (to present to the
// coordinator) and the hash of the coordinator's credential (to check the
// coordinator's calls). One file in the agent's data directory, mode 0600.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { writePrivateFile } from "@flotilla/security/private-files";

const FILE = "agent-credentials.json";

const saved = z.object({
  coordinatorUrl: z.string(),
  nodeId: z.string(),
  name: z.string(),
  nodeCredential: z.string(),
  coordinatorCredentialHash: z.string(),
});
export type SavedCredentials = z.infer<typeof saved>;

export async function loadCredentials(dataDir: string): Promise<SavedCredentials | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(dataDir, FILE), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  const parsed = saved.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${path.join(dataDir, FILE)} is damaged; delete it and join again with a new token`);
  return parsed.data;
}

export async function saveCredentials(dataDir: string, credentials: SavedCredentials): Promise<void> {
  const file = path.join(dataDir, FILE);
  // Not writeFile's mode: it is ignored for a file that already exists (a
  // leftover .tmp of 0644 would have kept its mode through the rename).
  await writePrivateFile(file, `${JSON.stringify(credentials, null, 2)}\n`);
}
