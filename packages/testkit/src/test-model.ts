// Where tests find the real test model: FLOTILLA_TEST_MODEL, else
// ../shared/models beside the repository, else a one-time download of the
// same public file (for someone who cloned the repository alone), checked
// against its known sha256.
import { createHash } from "node:crypto";
import { access, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseModelSpec, resolveModel } from "@flotilla/agent";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const TEST_MODEL_SHA256 = "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d";
export const TEST_MODEL_ID = "stories260K";
const HUB_REFERENCE = "hf:ggml-org/models/tinyllamas/stories260K.gguf";

let found: Promise<string> | undefined;

export function testModelPath(): Promise<string> {
  found ??= locate();
  return found;
}

async function locate(): Promise<string> {
  const fromEnv = process.env.FLOTILLA_TEST_MODEL;
  if (fromEnv) return fromEnv;
  const shared = path.resolve(REPO_ROOT, "../shared/models/stories260K.gguf");
  if (await access(shared).then(() => true, () => false)) return shared;
  const source = parseModelSpec(HUB_REFERENCE).source;
  const file = await resolveModel(source, {
    cacheDir: path.join(homedir(), ".cache", "flotilla-test"),
    hfEndpoint: process.env.HF_ENDPOINT ?? "https://huggingface.co",
    hfToken: undefined,
  });
  const sha = createHash("sha256").update(await readFile(file)).digest("hex");
  if (sha !== TEST_MODEL_SHA256) throw new Error(`${file} is not the expected test model (sha256 ${sha})`);
  return file;
}
