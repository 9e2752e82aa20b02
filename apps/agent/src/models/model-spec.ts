// `--model [NAME=]REF`, where REF is a local GGUF path or a Hugging Face
// reference `hf:owner/repo/path/in/repo.gguf`. Pure parsing; no I/O.
import path from "node:path";

export type ModelSource =
  | { kind: "file"; path: string }
  | { kind: "hf"; owner: string; repo: string; file: string; revision: string };

export interface ModelSpec {
  id: string;
  source: ModelSource;
}

const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const MODEL_ID_RULE = "1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit";
const HF_PART = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function parseModelSpec(spec: string): ModelSpec {
  const eq = spec.indexOf("=");
  // A Windows-free world: '=' never starts a path we accept, so NAME=REF is unambiguous.
  const name = eq > 0 ? spec.slice(0, eq) : undefined;
  const ref = eq > 0 ? spec.slice(eq + 1) : spec;
  if (ref === "") throw new Error(`model "${spec}": missing a path or hf: reference`);
  const source = parseModelSource(ref);
  const id = name ?? defaultId(source);
  if (!isModelId(id)) throw new Error(`model name "${id}" must be ${MODEL_ID_RULE}`);
  return { id, source };
}

export function isModelId(id: string): boolean {
  return MODEL_ID.test(id);
}

/** A REF alone (a path or hf:owner/repo/file.gguf[@revision]), as a template's `source` gives it. */
export function parseModelSource(ref: string): ModelSource {
  if (!ref.startsWith("hf:")) return { kind: "file", path: ref };
  const [rest = "", revision = "main"] = ref.slice(3).split("@", 2);
  const parts = rest.split("/");
  const [owner, repo, ...fileParts] = parts;
  if (!owner || !repo || fileParts.length === 0 || !parts.every((p) => HF_PART.test(p)) || fileParts.includes("..")) {
    throw new Error(`"${ref}" is not a Hugging Face reference of the form hf:owner/repo/file.gguf`);
  }
  if (!HF_PART.test(revision)) throw new Error(`"${revision}" is not a valid revision`);
  const file = fileParts.join("/");
  if (!file.endsWith(".gguf")) throw new Error(`"${ref}" must name a .gguf file`);
  return { kind: "hf", owner, repo, file, revision };
}

function defaultId(source: ModelSource): string {
  const file = source.kind === "file" ? source.path : source.file;
  return path.basename(file).replace(/\.gguf$/i, "");
}
