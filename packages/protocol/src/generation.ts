// What the coordinator knows of a node, and what it asks of one: every kind
// of node (the in-process agent, a remote agent, an agentless server)
// answers the same interface, for every workload (workload.ts).
import type { AgentLoad, ModelInfo } from "./cluster.ts";
// NodeStatus, with its NodeHealth, NodeKind and NodeLatency, is the schema
// the cluster API shows it by (cluster-api.ts): one definition for both.
import type { NodeStatus } from "./cluster-api.ts";
import type { RunOptions, Workload, WorkloadResult } from "./workload.ts";

export interface ModelDescriptor {
  id: string;
  /** Tokens one request can hold (prompt + completion). */
  contextSize: number;
  loadedAtMs: number;
}

/**
 * What serves workloads on a machine: the agent's side of the contract.
 * `flotilla up` hands the coordinator this object directly; a remote agent
 * offers the same over HTTP.
 */
export interface WorkloadHost {
  load(): AgentLoad;
  run(workload: Workload, options: RunOptions): Promise<WorkloadResult>;
  /** A served model's larger facts (Ollama's /api/show); undefined when the model is not served here. */
  modelInfo?(modelId: string): ModelInfo | undefined;
  /** Loads a model it keeps unloaded (servedModel.state "unloaded"); false when it has no such model. */
  loadModel?(modelId: string): boolean;
}

/** Requests a node can run at once: its models' slots together. */
export function slotsOf(status: Pick<NodeStatus, "models">): number {
  return status.models.reduce((sum, m) => sum + m.slots.total, 0);
}

/** A node as the coordinator sees it. */
export interface InferenceNode {
  readonly name: string;
  status(nowMs: number): NodeStatus;
  run(workload: Workload, options: RunOptions): Promise<WorkloadResult>;
  /** What the node can tell of a model beyond its status (Ollama's /api/show); absent where the node cannot say. */
  modelInfo?(modelId: string, signal: AbortSignal): Promise<ModelInfo | undefined>;
  /**
   * Asks the node to load a model it keeps unloaded (an agent's idle unload):
   * fire and forget, the next reports say when it is loaded. Absent where a
   * node loads nothing on demand (agentless servers load as they please).
   */
  loadModel?(modelId: string): void;
}
