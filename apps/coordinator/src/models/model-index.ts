// The model store's index: name → {sha256, size, addedAtMs}, one small JSON
// file. It is replaced whole on every change (a temporary file, synced,
// renamed over it, the directory synced), so a crash leaves the old index or
// the new one, never half of either. Read once, at start-up, and checked
// with the protocol's schema: a file someone edited by hand into something
// else stops the coordinator with its name rather than serving nonsense.
import { randomUUID } from "node:crypto";
import { open, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { storedModel, type StoredModel } from "@flotilla/protocol";
import { syncDirectory } from "../jobs/files/blob-store.ts";

const INDEX_VERSION = 1;
const indexFile = z.strictObject({ version: z.literal(INDEX_VERSION), models: z.array(storedModel) });

/** The entries of the index at `file`, none when it does not exist yet. */
export async function readModelIndex(file: string): Promise<StoredModel[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  let parsed: z.infer<typeof indexFile>;
  try {
    parsed = indexFile.parse(JSON.parse(text));
  } catch (err) {
    const why = err instanceof z.ZodError ? (err.issues[0]?.message ?? "invalid") : err instanceof Error ? err.message : String(err);
    throw new Error(`the model store's index ${file} is not valid (${why}); fix it or move it away (the model files beside it are kept)`, { cause: err });
  }
  const names = new Set<string>();
  for (const entry of parsed.models) {
    if (names.has(entry.name)) throw new Error(`the model store's index ${file} lists ${entry.name} twice`);
    names.add(entry.name);
  }
  return parsed.models;
}

/** Replaces the index at `file` with `entries`, atomically. */
export async function writeModelIndex(file: string, entries: readonly StoredModel[]): Promise<void> {
  const temporary = path.join(path.dirname(file), `.index-${randomUUID()}.tmp`);
  const text = `${JSON.stringify({ version: INDEX_VERSION, models: entries }, null, 2)}\n`;
  const handle = await open(temporary, "wx", 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(temporary, { force: true });
    throw err;
  }
  await handle.close();
  await rename(temporary, file);
  await syncDirectory(path.dirname(file));
}
