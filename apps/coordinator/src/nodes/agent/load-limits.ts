// What the coordinator believes of an agent's report. An agent states its
// own models and slot counts; a joined node could claim any model id and up
// to 1,000,000 slots and so attract traffic it cannot (or should not) serve.
// Models outside the cluster file's allowModels are dropped, slot counts are
// capped at what the node's hardware makes plausible, and each cut is said,
// so that status shows why a node serves less than it reports.
import type { AgentLoad, HardwareInfo } from "@flotilla/protocol";

/** Slots per model per logical core that a llama.cpp server can sensibly run. */
export const SLOTS_PER_CORE = 4;
/** The cap for any machine that reports few cores (a GPU box with a small CPU). */
export const MIN_SLOT_CAP = 64;
/** The cap however many cores a node claims: its hardware report is its own word too. */
export const MAX_SLOT_CAP = 1024;

export interface AgentLimits {
  /** Model ids (`*` matches any run of characters) the node may serve; undefined: any. */
  allowModels: readonly string[] | undefined;
  /** The cluster file's agents.maxSlotsPerModel; undefined: the hardware rule. */
  maxSlotsPerModel: number | undefined;
}

export interface LimitedLoad {
  load: AgentLoad;
  /** One line per cut, for status; empty when the report stands as sent. */
  limits: string[];
}

/** max(cores × 4, 64), at most 1024; or the configured maximum. */
export function slotCap(hardware: HardwareInfo | null, configured: number | undefined): number {
  if (configured !== undefined) return configured;
  const cores = hardware?.cpu.logicalCores ?? 1;
  return Math.min(Math.max(cores * SLOTS_PER_CORE, MIN_SLOT_CAP), MAX_SLOT_CAP);
}

export function modelAllowed(id: string, allowModels: readonly string[] | undefined): boolean {
  return allowModels === undefined || allowModels.some((pattern) => globToRegExp(pattern).test(id));
}

export function limitLoad(load: AgentLoad, hardware: HardwareInfo | null, limits: AgentLimits): LimitedLoad {
  const cap = slotCap(hardware, limits.maxSlotsPerModel);
  const notes: string[] = [];
  const models: AgentLoad["models"] = [];
  for (const model of load.models) {
    if (!modelAllowed(model.id, limits.allowModels)) {
      notes.push(`model ${model.id} dropped: not in the cluster file's allowModels for this node`);
      continue;
    }
    if (model.slots.total <= cap) {
      models.push(model);
      continue;
    }
    const why = limits.maxSlotsPerModel === undefined ? `max(logical cores × ${SLOTS_PER_CORE}, ${MIN_SLOT_CAP})` : "agents.maxSlotsPerModel";
    notes.push(`model ${model.id}: ${model.slots.total} slots reported, capped at ${cap} (${why})`);
    models.push({ ...model, slots: { ...model.slots, total: cap, busy: Math.min(model.slots.busy, cap) } });
  }
  return { load: { ...load, models }, limits: notes };
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${escaped.join(".*")}$`);
}

/** The cluster file's agents section, as far as limits go (config/cluster-file.ts). */
export interface AgentsPolicy {
  allowModels?: readonly string[] | undefined;
  maxSlotsPerModel?: number | undefined;
  nodes?: readonly { name: string; allowModels: readonly string[] }[] | undefined;
}

/** One agent's limits: its own allowModels entry, else the default. */
export function limitsFor(policy: AgentsPolicy | undefined, name: string): AgentLimits {
  const own = policy?.nodes?.find((n) => n.name === name);
  return { allowModels: own?.allowModels ?? policy?.allowModels, maxSlotsPerModel: policy?.maxSlotsPerModel };
}
