// `flotilla cluster add URL`: an existing OpenAI-compatible or Ollama server
// (llama-server, vLLM, LM Studio, Ollama, another flotilla) becomes a node
// with no agent on it. The coordinator validates the URL against its
// allowlist, checks the server once and answers with what it found.
import { InvalidArgumentError, Option, type Command } from "commander";
import { presentedNode } from "@flotilla/protocol";
import { adminRequest, type ClientTarget } from "../client.ts";
import { collect } from "../option-parsers.ts";
import { printable } from "../printable.ts";

export interface AddFlags {
  kind: "openai" | "ollama";
  name?: string;
  tier?: number;
  pool?: string;
  model?: string[];
  weight?: number;
  label?: Record<string, string>;
  apiKeyEnv?: string;
}

function parseTier(text: string): number {
  if (!/^[012]$/.test(text.trim())) throw new InvalidArgumentError("use 0 (fast/small), 1 (medium) or 2 (powerful)");
  return Number(text);
}

function parseWeight(text: string): number {
  const weight = Number(text);
  if (!Number.isFinite(weight) || weight <= 0) throw new InvalidArgumentError("use a number above 0");
  return weight;
}

function collectLabel(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf("=");
  if (eq < 1) throw new InvalidArgumentError("use key=value");
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** The arguments and options of `cluster add`; the caller adds the client flags and the action. */
export function defineClusterAdd(command: Command): Command {
  return command
    .description("add an existing OpenAI-compatible or Ollama server as a node, with no agent on it")
    .argument("<url>", "the server's base URL, e.g. http://192.168.1.20:11434 (a path prefix is kept)")
    .addOption(new Option("--kind <kind>", "the API it speaks").choices(["openai", "ollama"]).default("openai"))
    .option("--name <name>", "the node's name (default: host-port)")
    .option("--tier <0|1|2>", "its class: 0 fast/small, 1 medium, 2 powerful (default 1)", parseTier)
    .option("--pool <pool>", "the pool it serves (default: default)")
    .option("--model <id>", "offer only this model of the server's (repeatable; default: every model it lists)", collect)
    .option("--weight <n>", "its share of traffic among equal nodes (default 1)", parseWeight)
    .option("--label <key=value>", "a label for routing (repeatable)", collectLabel)
    .option("--api-key-env <NAME>", "the environment variable ON THE COORDINATOR that holds the server's bearer token; its name must start with FLOTILLA_NODE_KEY_ (or a prefix in the cluster file's apiKeyEnvPrefixes)");
}

export async function addNode(target: ClientTarget, env: NodeJS.ProcessEnv, url: string, flags: AddFlags): Promise<void> {
  const body = {
    url,
    kind: flags.kind,
    name: flags.name,
    tier: flags.tier,
    pool: flags.pool,
    models: flags.model,
    weight: flags.weight,
    labels: flags.label,
    apiKeyEnv: flags.apiKeyEnv,
  };
  const node = await adminRequest(target, env, "POST", "/cluster/nodes", presentedNode, body);
  // The name alone on stdout, for scripts; it may have been chosen from the URL.
  process.stdout.write(`${printable(node.name)}\n`);
  const serving = node.models.map((m) => m.id).join(", ") || "no model";
  // Model ids and the error come from the server that was added: printable.
  process.stderr.write(
    printable(
      node.health === "ready"
        ? `${node.name} added: ${node.kind} server at ${node.url}, serving ${serving}${node.error ? ` (${node.error})` : ""}`
        : `${node.name} added, but it does not answer yet: ${node.error ?? node.state}. \`flotilla cluster status\` shows when it does`,
    ) + "\n",
  );
}
