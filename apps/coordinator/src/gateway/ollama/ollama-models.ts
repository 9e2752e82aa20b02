// What /api/tags, /api/ps and /api/show say of the models the cluster serves,
// from the nodes' status (and, for /api/show, the larger facts one node gives
// on demand). Pure functions of what the registry knows; agentless nodes may
// know no details, and the answer then says what is known (docs/adr/0032).
import type { Capability, ModelDetails, ModelInfo, NodeStatus, ServedModel } from "@flotilla/protocol";

export interface OllamaDetails {
  parent_model: string;
  format: string;
  family: string;
  families: string[] | null;
  parameter_size: string;
  quantization_level: string;
}

export interface OllamaTag {
  name: string;
  model: string;
  modified_at: string;
  size: number;
  digest: string;
  details: OllamaDetails;
}

export interface OllamaRunning {
  name: string;
  model: string;
  size: number;
  digest: string;
  details: OllamaDetails;
  expires_at: string;
  size_vram: number;
  context_length: number;
  /** Which node holds it: the cluster-wide view Ollama has no field for. */
  flotilla: { node: string; kind: NodeStatus["kind"]; tier: NodeStatus["tier"]; pool: string; health: NodeStatus["health"]; slots: ServedModel["slots"] };
}

export interface OllamaShow {
  license: string;
  modelfile: string;
  parameters: string;
  template: string;
  system: string;
  details: OllamaDetails;
  model_info: Record<string, string | number | boolean | null>;
  capabilities: string[];
  modified_at: string;
}

/**
 * Models are pinned by node configuration: they do not expire. Ollama shows
 * a model kept forever (keep_alive -1) with a far-off expiry; so does this.
 */
export const PINNED_EXPIRES_AT = "2318-01-01T00:00:00Z";

export function ollamaDetails(details: ModelDetails | undefined): OllamaDetails {
  return {
    parent_model: "",
    format: details?.format ?? "gguf",
    family: details?.family ?? "",
    families: details?.families ?? null,
    parameter_size: details?.parameterSize ?? "",
    quantization_level: details?.quantizationLevel ?? "",
  };
}

/** The nodes that can serve now, with each model they serve. */
function served(statuses: readonly NodeStatus[]): { node: NodeStatus; model: ServedModel }[] {
  return statuses.filter((n) => n.health !== "down").flatMap((node) => node.models.map((model) => ({ node, model })));
}

/**
 * The name Ollama's clients see: a name without a tag gets `:latest`, as
 * Ollama's own names have one. Open WebUI adds `:latest` to every name it is
 * asked for and looks it up among the names /api/tags gave, so a bare name
 * there would list the model and then fail to find it.
 */
export function ollamaName(id: string): string {
  return id.includes(":") ? id : `${id}:latest`;
}

/** A model id as a client may say it: Ollama's clients add `:latest` to a name without a tag. */
export function resolveModelName(requested: string, ids: readonly string[]): string | undefined {
  if (ids.includes(requested)) return requested;
  if (requested.endsWith(":latest")) {
    const bare = requested.slice(0, -":latest".length);
    if (ids.includes(bare)) return bare;
  }
  return undefined;
}

/** Every model once, with the details of the first node that knows them (the one with a digest first). */
export function tagsOf(statuses: readonly NodeStatus[]): OllamaTag[] {
  const byId = new Map<string, ServedModel>();
  for (const { model } of served(statuses)) {
    // Ollama has no speech models: a client would offer a speech engine as a chat model.
    if (!model.capabilities.includes("chat") && !model.capabilities.includes("embed")) continue;
    const seen = byId.get(model.id);
    if (seen === undefined || (seen.details?.digest === undefined && model.details?.digest !== undefined)) byId.set(model.id, model);
  }
  return [...byId.values()].sort((a, b) => a.id.localeCompare(b.id)).map(tagOf);
}

function tagOf(model: ServedModel): OllamaTag {
  return {
    name: ollamaName(model.id),
    model: ollamaName(model.id),
    modified_at: new Date(model.details?.modifiedAtMs ?? model.loadedAtMs).toISOString(),
    size: model.details?.sizeBytes ?? 0,
    digest: model.details?.digest ?? "",
    details: ollamaDetails(model.details),
  };
}

/** Every loaded model on every node that can serve, one entry per node and model. */
export function runningOf(statuses: readonly NodeStatus[]): OllamaRunning[] {
  return served(statuses)
    .map(({ node, model }) => ({
      ...tagOf(model),
      expires_at: PINNED_EXPIRES_AT,
      // Which share of it sits in GPU memory is the node's to know; no node reports it yet.
      size_vram: 0,
      context_length: model.contextSize,
      flotilla: { node: node.name, kind: node.kind, tier: node.tier, pool: node.pool, health: node.health, slots: model.slots },
    }))
    .map(({ modified_at: _, ...running }) => running)
    .sort((a, b) => a.name.localeCompare(b.name) || a.flotilla.node.localeCompare(b.flotilla.node));
}

/** Ollama's capability names for what flotilla's models advertise; `json` is part of Ollama's completion. */
export function ollamaCapabilities(capabilities: readonly Capability[]): string[] {
  const names: string[] = [];
  if (capabilities.includes("chat")) names.push("completion");
  if (capabilities.includes("embed")) names.push("embedding");
  if (capabilities.includes("tools")) names.push("tools");
  return names;
}

/** Ollama's `parameters` text: one `name value` line each, strings quoted. */
function parameterLines(parameters: ModelInfo["parameters"]): string {
  return Object.entries(parameters)
    .map(([name, value]) => `${name.padEnd(30)} ${typeof value === "string" ? JSON.stringify(value) : value}`)
    .join("\n");
}

/** /api/show from a node's status entry and, where the node gave them, its larger facts. */
export function showOf(model: ServedModel, info: ModelInfo | undefined): OllamaShow {
  const details = model.details;
  const known: ModelInfo = info ?? {
    parameters: { num_ctx: model.contextSize },
    metadata: details === undefined ? {} : { "general.architecture": details.family },
  };
  const parameters = parameterLines({ ...known.parameters, num_ctx: model.contextSize });
  const template = known.template ?? "";
  const modelfile = [
    "# Modelfile generated by flotilla: the model is set by node configuration, not built from this",
    `FROM ${model.id}`,
    ...(template === "" ? [] : [`TEMPLATE """${template}"""`]),
    ...Object.entries({ ...known.parameters, num_ctx: model.contextSize }).map(([name, value]) => `PARAMETER ${name} ${typeof value === "string" ? JSON.stringify(value) : value}`),
  ].join("\n");
  return {
    license: "",
    modelfile,
    parameters,
    template,
    system: "",
    details: ollamaDetails(details),
    model_info: known.metadata,
    capabilities: ollamaCapabilities(model.capabilities),
    modified_at: new Date(details?.modifiedAtMs ?? model.loadedAtMs).toISOString(),
  };
}

/** The nodes serving a model, ready ones first: where /api/show asks for the larger facts. */
export function holdersOf(statuses: readonly NodeStatus[], id: string): { node: NodeStatus; model: ServedModel }[] {
  return served(statuses)
    .filter(({ model }) => model.id === id)
    .sort((a, b) => Number(a.node.health !== "ready") - Number(b.node.health !== "ready"));
}
