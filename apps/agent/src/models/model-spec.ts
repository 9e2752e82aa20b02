// `--model [NAME=]REF`, where REF is a local GGUF path (a shared NFS mount
// is one), a Hugging Face reference `hf:owner/repo/path/in/repo.gguf`, or a
// file of the coordinator's model store, `store:NAME` or `store:sha256:<hex>`
// (docs/adr/0042). Pure parsing; no I/O.
import path from "node:path";
import { isStoredModelName, SHA256_HEX, STORED_MODEL_NAME_RULE } from "@flotilla/protocol";

export type ModelSource =
  | { kind: "file"; path: string }
  | { kind: "hf"; owner: string; repo: string; file: string; revision: string }
  /** A name in the coordinator's model store: looked up at each provisioning, then pulled by its hash. */
  | { kind: "store"; name: string }
  /** A file of the store by its hash: what it is never changes. */
  | { kind: "store-sha256"; sha256: string };

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
  if (ref === "") throw new Error(`model "${spec}": missing a path, hf: or store: reference`);
  const source = parseModelSource(ref);
  const id = name ?? defaultId(source);
  if (!isModelId(id)) throw new Error(`model name "${id}" must be ${MODEL_ID_RULE}`);
  return { id, source };
}

export function isModelId(id: string): boolean {
  return MODEL_ID.test(id);
}

/** A REF alone (a path, hf:owner/repo/file.gguf[@revision], store:NAME or store:sha256:HEX), as a template's `source` gives it. */
export function parseModelSource(ref: string): ModelSource {
  if (ref.startsWith("store:")) return parseStoreSource(ref);
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

function parseStoreSource(ref: string): ModelSource {
  const rest = ref.slice("store:".length);
  if (rest.startsWith("sha256:")) {
    const sha256 = rest.slice("sha256:".length);
    if (!SHA256_HEX.test(sha256)) throw new Error(`"${ref}": store:sha256: takes the file's 64 lower-case hexadecimal digits`);
    return { kind: "store-sha256", sha256 };
  }
  if (!isStoredModelName(rest)) throw new Error(`"${ref}": store:NAME takes a name of the coordinator's model store, ${STORED_MODEL_NAME_RULE}`);
  return { kind: "store", name: rest };
}

function defaultId(source: ModelSource): string {
  switch (source.kind) {
    case "file":
      return path.basename(source.path).replace(/\.gguf$/i, "");
    case "hf":
      return path.basename(source.file).replace(/\.gguf$/i, "");
    case "store":
      return source.name.replace(/\.gguf$/i, "");
    case "store-sha256":
      return `sha256-${source.sha256.slice(0, 12)}`;
  }
}
