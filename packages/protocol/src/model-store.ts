// The coordinator's model store (issue 17, docs/adr/0042): model files
// registered by name, kept by their sha256, pulled by agents provisioning a
// template whose source is `store:NAME`. What `/cluster/models` answers and
// what an agent's `store:` source may name.
import { z } from "zod";

/**
 * A stored model's name: the agent's model-id rule without ':' (so that
 * `store:sha256:<hex>` can never be a name). `by-hash` is the download
 * route's own path segment and cannot be a name.
 */
export const STORED_MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const STORED_MODEL_NAME_RULE = "1-128 letters, digits, '.', '_' or '-', starting with a letter or digit (not by-hash)";
export const RESERVED_STORED_MODEL_NAMES: ReadonlySet<string> = new Set(["by-hash"]);

export function isStoredModelName(name: string): boolean {
  return STORED_MODEL_NAME.test(name) && !RESERVED_STORED_MODEL_NAMES.has(name);
}

export const storedModelName = z.string().refine(isStoredModelName, STORED_MODEL_NAME_RULE);

export const SHA256_HEX = /^[0-9a-f]{64}$/;
export const sha256Hex = z.string().regex(SHA256_HEX, "64 lower-case hexadecimal digits");

/** One name in the store: `GET /cluster/models` lists them; `GET /cluster/models/{name}/ref` answers one. */
export const storedModel = z.object({
  name: storedModelName,
  sha256: sha256Hex,
  /** Bytes. */
  size: z.int().min(1),
  /** Epoch milliseconds. */
  addedAtMs: z.int().min(0),
});
export type StoredModel = z.infer<typeof storedModel>;

export const storedModelsResponse = z.object({ models: z.array(storedModel) });
export type StoredModelsResponse = z.infer<typeof storedModelsResponse>;

/** `PUT /cluster/models/{name}`'s answer: 201 for a new name, 200 for one that was there. */
export const addModelResponse = z.object({
  model: storedModel,
  /** The same bytes were already stored (under this or another name): nothing new was kept. */
  deduplicated: z.boolean(),
  /** What the name pointed to before, when it pointed to other bytes; null otherwise. */
  replacedSha256: sha256Hex.nullable(),
});
export type AddModelResponse = z.infer<typeof addModelResponse>;
