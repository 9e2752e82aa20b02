// Which environment variables a node's apiKeyEnv may name (ADR 0024). The
// coordinator sends the variable's value as a bearer token to the node's URL,
// so a free choice would let whoever adds a node (an admin over the API, not
// necessarily someone with a shell on the coordinator) read any of the
// coordinator's variables — HF_TOKEN, AWS_SECRET_ACCESS_KEY — by adding a
// server of theirs. Only names with a declared prefix are node tokens.
import { z } from "zod";

export const DEFAULT_API_KEY_ENV_PREFIXES: readonly string[] = ["FLOTILLA_NODE_KEY_"];

/**
 * A prefix the cluster file may declare: long enough and ending in "_", so
 * that it names a family of variables ("OLLAMA_KEY_"), not a letter that
 * would admit half the environment ("A", "P").
 */
export const apiKeyEnvPrefix = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]{2,}_$/, "a prefix of at least 4 characters (letters, digits, '_') that ends with '_', like FLOTILLA_NODE_KEY_");

/** Null when `name` may hold a node's token, else why not. Pure. */
export function apiKeyEnvProblem(name: string, prefixes: readonly string[]): string | null {
  if (prefixes.some((prefix) => name.startsWith(prefix) && name.length > prefix.length)) return null;
  return (
    `${name} is not a node token variable: its name must start with ${prefixes.join(" or ")} ` +
    "(other variables of the coordinator are never sent to nodes; more prefixes can be listed in the cluster file's apiKeyEnvPrefixes)"
  );
}
