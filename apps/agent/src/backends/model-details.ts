// What a GGUF model file is, in the words Ollama's clients use: family,
// parameter size, quantization level, size, digest (for `/api/tags` and
// `/api/ps`, carried in every heartbeat as `details`), and the larger facts
// `/api/show` prints (template, parameters, flattened metadata), given only
// when asked. Read from node-llama-cpp's parsed file info, never from the
// model's weights; the digest is the file's sha256, computed once in the
// background after start (hashing a large model takes a while on a small
// machine, and the model serves meanwhile: until then the digest is absent).
import { createHash } from "node:crypto";
import { createReadStream, statSync } from "node:fs";
import type { GgufFileInfo } from "node-llama-cpp";
import type { ModelDetails, ModelInfo } from "@flotilla/protocol";

/**
 * llama.cpp's `general.file_type` (LLAMA_FTYPE_*) by number, as Ollama names
 * it. Numbers 4-6 and 33-35 are formats llama.cpp no longer makes.
 */
const FILE_TYPES: Readonly<Record<number, string>> = {
  0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S",
  12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K",
  19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL",
  26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16",
  36: "TQ1_0", 37: "TQ2_0", 38: "MXFP4",
};

/** ggml's tensor types (GgmlType), for files without general.file_type: the type most weights have names the file. */
const TENSOR_TYPES: Readonly<Record<number, string>> = {
  0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 10: "Q2_K", 11: "Q3_K",
  12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S",
  20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS", 29: "IQ1_M", 30: "BF16", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4",
};

/** Longer strings (a vocabulary joined by someone) stay out of `metadata`. */
const MAX_METADATA_STRING = 65_536;

/** Ollama's format.HumanNumber: 260K, 494.03M, 7B, 7.6B. */
export function humanParameterCount(count: number): string {
  if (count >= 1e9) return wholeOr(count / 1e9, 1, "B");
  if (count >= 1e6) return wholeOr(count / 1e6, 2, "M");
  if (count >= 1e3) return `${Math.round(count / 1e3)}K`;
  return String(count);
}

function wholeOr(value: number, decimals: number, unit: string): string {
  return Number.isInteger(value) ? `${value}${unit}` : `${value.toFixed(decimals)}${unit}`;
}

type Metadata = Readonly<Record<string, unknown>>;

function metadataOf(info: GgufFileInfo): Metadata {
  return info.metadata;
}

/** A metadata value by its dotted key (`general.file_type`), as node-llama-cpp nests them. */
function lookUp(metadata: Metadata, key: string): unknown {
  let value: unknown = metadata;
  for (const part of key.split(".")) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Metadata)[part];
  }
  return value;
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === "bigint") return Number(value);
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** general.parameter_count where the file says it, else the weights counted tensor by tensor. */
export function parameterCountOf(info: GgufFileInfo): number | undefined {
  const declared = asNumber(lookUp(metadataOf(info), "general.parameter_count"));
  if (declared !== undefined) return declared;
  const tensors = info.fullTensorInfo ?? info.tensorInfo ?? [];
  if (tensors.length === 0) return undefined;
  let total = 0;
  for (const tensor of tensors) total += tensor.dimensions.reduce<number>((n, d) => n * Number(d), 1);
  return total;
}

/** Ollama's quantization level: from general.file_type, else the type most of the weights have. */
export function quantizationOf(info: GgufFileInfo): string | undefined {
  const fileType = asNumber(lookUp(metadataOf(info), "general.file_type"));
  if (fileType !== undefined) return FILE_TYPES[fileType];
  const elements = new Map<number, number>();
  for (const tensor of info.fullTensorInfo ?? info.tensorInfo ?? []) {
    const count = tensor.dimensions.reduce<number>((n, d) => n * Number(d), 1);
    elements.set(tensor.ggmlType, (elements.get(tensor.ggmlType) ?? 0) + count);
  }
  let dominant: number | undefined;
  for (const [type, count] of elements) if (dominant === undefined || count > (elements.get(dominant) ?? 0)) dominant = type;
  return dominant === undefined ? undefined : TENSOR_TYPES[dominant];
}

export interface FileFacts {
  sizeBytes: number;
  modifiedAtMs: number;
  digest?: string;
}

/** The heartbeat-sized details of a model file. */
export function detailsOf(info: GgufFileInfo, file: FileFacts | undefined): ModelDetails {
  const architecture = lookUp(metadataOf(info), "general.architecture");
  const family = typeof architecture === "string" && architecture !== "" ? architecture : "unknown";
  const parameters = parameterCountOf(info);
  const quantization = quantizationOf(info);
  return {
    format: "gguf",
    family,
    families: [family],
    ...(parameters === undefined ? {} : { parameterSize: humanParameterCount(parameters) }),
    ...(quantization === undefined ? {} : { quantizationLevel: quantization }),
    ...(file === undefined ? {} : { sizeBytes: file.sizeBytes, modifiedAtMs: Math.floor(file.modifiedAtMs) }),
    ...(file?.digest === undefined ? {} : { digest: file.digest }),
  };
}

/**
 * Every scalar metadata key, flattened with dots as Ollama's `model_info`
 * shows them; arrays (vocabulary, scores, merges) are null, as Ollama shows
 * them without `verbose`. The chat template is `template`, not repeated here.
 */
export function flattenMetadata(info: GgufFileInfo): Record<string, string | number | boolean | null> {
  const flat: Record<string, string | number | boolean | null> = {};
  const walk = (value: unknown, key: string): void => {
    if (key === "tokenizer.chat_template") return;
    if (Array.isArray(value)) flat[key] = null;
    else if (typeof value === "bigint") flat[key] = Number(value);
    else if (typeof value === "number" || typeof value === "boolean") flat[key] = value;
    else if (typeof value === "string") {
      if (value.length <= MAX_METADATA_STRING) flat[key] = value;
    } else if (typeof value === "object" && value !== null) {
      for (const [child, inner] of Object.entries(value)) walk(inner, key === "" ? child : `${key}.${child}`);
    }
  };
  walk(metadataOf(info), "");
  const parameters = parameterCountOf(info);
  if (flat["general.parameter_count"] === undefined && parameters !== undefined) flat["general.parameter_count"] = parameters;
  return flat;
}

export interface RunSettings {
  /** The context each sequence has on this node. */
  contextSize: number;
  /** The model's end-of-text token, as text, where it has one. */
  endOfText?: string | null;
}

export function infoOf(info: GgufFileInfo, settings: RunSettings): ModelInfo {
  const template = lookUp(metadataOf(info), "tokenizer.chat_template");
  return {
    ...(typeof template === "string" ? { template } : {}),
    parameters: {
      num_ctx: settings.contextSize,
      ...(settings.endOfText == null || settings.endOfText === "" ? {} : { stop: settings.endOfText }),
    },
    metadata: flattenMetadata(info),
  };
}

/** One hash per file version, for every backend and every restart of a backend in this process. */
const digests = new Map<string, Promise<string | undefined>>();

/** sha256 of a file, hex, streamed (a model may be larger than the memory left); undefined if it cannot be read. */
export function fileDigest(path: string, sizeBytes: number, modifiedAtMs: number): Promise<string | undefined> {
  const key = `${path}\u0000${sizeBytes}\u0000${modifiedAtMs}`;
  let digest = digests.get(key);
  if (digest === undefined) {
    digest = new Promise((resolve) => {
      const hash = createHash("sha256");
      createReadStream(path, { highWaterMark: 1024 * 1024 })
        .on("data", (bytes) => hash.update(bytes))
        .on("error", () => resolve(undefined))
        .on("end", () => resolve(hash.digest("hex")));
    });
    digests.set(key, digest);
  }
  return digest;
}

/** A loaded model file's facts: the details at once, the digest once hashed. */
export class ModelFacts {
  readonly #info: GgufFileInfo;
  readonly #file: FileFacts | undefined;
  /** Settles when the hash is done (tests wait for it; serving never does). */
  readonly hashed: Promise<void>;

  constructor(path: string, info: GgufFileInfo) {
    this.#info = info;
    let file: FileFacts | undefined;
    try {
      const stat = statSync(path);
      file = { sizeBytes: stat.size, modifiedAtMs: stat.mtimeMs };
    } catch {
      file = undefined;
    }
    this.#file = file;
    this.hashed =
      file === undefined
        ? Promise.resolve()
        : fileDigest(path, file.sizeBytes, file.modifiedAtMs).then((digest) => {
          if (digest !== undefined) file.digest = digest;
        });
  }

  details(): ModelDetails {
    return detailsOf(this.#info, this.#file);
  }

  info(settings: RunSettings): ModelInfo {
    return infoOf(this.#info, settings);
  }
}
