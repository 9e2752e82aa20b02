// What a restarted coordinator says about an agent it has not heard from yet
// (docs/adr/0027). The store keeps the models each agent last reported; until
// the agent's first heartbeat, and for one grace period after the restart
// (the time after which a silent node counts as down), the node lists those
// models, with no slot busy, as a node that is not ready. The router then
// answers "no healthy node, retry" (503 with Retry-After) for them, not
// "no such model" (404), which clients do not retry. An agent that has not
// come back by then may have been reconfigured: what it serves is unknown,
// and its remembered models are no longer listed. Pure: decided from
// (what was heard, what was remembered, now).
import { z } from "zod";
import { servedModel, type AgentLoad, type ServedModel } from "@flotilla/protocol";

export interface RememberedModels {
  models: readonly ServedModel[];
  /** Until when they stand in for a heartbeat that has not come. */
  untilMs: number;
}

/** The models a node lists: the last heartbeat's, else the remembered ones during their grace period. */
export function listedModels(load: AgentLoad | null, remembered: RememberedModels | undefined, nowMs: number): readonly ServedModel[] {
  if (load !== null) return load.models;
  if (remembered === undefined || nowMs >= remembered.untilMs) return [];
  return remembered.models.map((m) => ({ ...m, slots: { ...m.slots, busy: 0, queued: 0 } }));
}

/** What is worth storing again: a change of models, not of their slots' load at this instant. */
export function modelsKey(models: readonly ServedModel[]): string {
  return JSON.stringify(models.map((m) => [m.id, m.contextSize, m.capabilities, m.slots.total]));
}

const storedModels = z.array(servedModel);

/** Stored JSON → models; a row that no longer parses (a newer or damaged store) is no models, not a crash. */
export function parseStoredModels(json: string): ServedModel[] {
  try {
    const parsed = storedModels.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}
