// Where tests find the real test model: FLOTILLA_TEST_MODEL, else
// ../shared/models beside the repository, else a one-time download of the
// same public file (for someone who cloned the repository alone), checked
// against its known sha256.
//
// The download is done here, in a few lines, rather than with the agent's
// model resolution: a package never imports an app (docs/adr/0015), and one
// known file checked against a known hash needs none of its generality.
import { createHash } from "node:crypto";
import { access, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const TEST_MODEL_SHA256 = "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d";
export const TEST_MODEL_ID = "stories260K";
/** hf:ggml-org/models/tinyllamas/stories260K.gguf, as owner/repo, revision and file. */
const HUB_REPO = "ggml-org/models";
const HUB_REVISION = "main";
const HUB_FILE = "tinyllamas/stories260K.gguf";
/** Where the agent's resolution put it too (cacheDir/hf/owner/repo/revision/file), so a cache made before is still found. */
const CACHED = path.join(homedir(), ".cache", "flotilla-test", "hf", HUB_REPO, HUB_REVISION, HUB_FILE);

let found: Promise<string> | undefined;

export function testModelPath(): Promise<string> {
  found ??= locate();
  return found;
}

async function locate(): Promise<string> {
  const fromEnv = process.env.FLOTILLA_TEST_MODEL;
  if (fromEnv) return fromEnv;
  const shared = path.resolve(REPO_ROOT, "../shared/models/stories260K.gguf");
  if (await exists(shared)) return shared;
  if (await exists(CACHED) && sha256(await readFile(CACHED)) === TEST_MODEL_SHA256) return CACHED;
  await download(CACHED);
  return CACHED;
}

async function download(target: string): Promise<void> {
  const endpoint = (process.env.HF_ENDPOINT ?? "https://huggingface.co").replace(/\/+$/, "");
  const url = `${endpoint}/${HUB_REPO}/resolve/${HUB_REVISION}/${HUB_FILE}`;
  const response = await fetch(url);
  if (!response.ok) throw new Error(`download of ${url} failed: HTTP ${response.status}`);
  const bytes = Buffer.from(await response.arrayBuffer());
  const sha = sha256(bytes);
  if (sha !== TEST_MODEL_SHA256) throw new Error(`${url} is not the expected test model (sha256 ${sha})`);
  await mkdir(path.dirname(target), { recursive: true });
  // Renamed into place, so that test processes started together never read half a file.
  const partial = `${target}.${process.pid}.partial`;
  await writeFile(partial, bytes);
  await rename(partial, target);
}

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function exists(file: string): Promise<boolean> {
  return access(file).then(() => true, () => false);
}
