// What the coordinator asks of a node, independent of the OpenAI wire format:
// the gateway translates OpenAI bodies into a GenerationRequest once, and every
// kind of node (the in-process agent, a remote agent, later an agentless
// server) answers the same interface.
import type { FinishReason } from "./openai.ts";
import type { AgentLoad, ServedModel, Tier } from "./cluster.ts";
import type { HardwareInfo } from "./hardware.ts";

export interface ChatTurn {
  role: "system" | "user" | "assistant";
  content: string;
}

export type GenerationInput =
  | { kind: "chat"; messages: ChatTurn[] }
  | { kind: "completion"; prompt: string };

export interface GenerationParams {
  /** Undefined: until the model stops or its context is full. */
  maxTokens: number | undefined;
  temperature: number | undefined;
  topP: number | undefined;
  seed: number | undefined;
  stop: string[];
  presencePenalty: number | undefined;
  frequencyPenalty: number | undefined;
}

export interface GenerationRequest {
  model: string;
  input: GenerationInput;
  params: GenerationParams;
}

export interface GenerationResult {
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
}

export interface GenerateOptions {
  /** Aborting it stops generation on the node and frees the slot. */
  signal: AbortSignal;
  /** Called with each piece of confirmed text, in order; omit when not streaming. */
  onText?: (text: string) => void;
  /**
   * A flotilla agent must have taken the request (connected and sent its
   * response head, which it does at once) within this; a hung process behind
   * a live socket fails here. Agentless servers send their head only with
   * the first token, so they leave this to the first-token timeout.
   */
  connectTimeoutMs?: number;
}

export interface ModelDescriptor {
  id: string;
  /** Tokens one request can hold (prompt + completion). */
  contextSize: number;
  loadedAtMs: number;
}

/**
 * What serves generations on a machine: the agent's side of the contract.
 * `flotilla up` hands the coordinator this object directly; a remote agent
 * offers the same over HTTP.
 */
export interface GenerationHost {
  load(): AgentLoad;
  generate(request: GenerationRequest, options: GenerateOptions): Promise<GenerationResult>;
}

/** A node's health as the coordinator judges it (see registry/node-health.ts). */
export type NodeHealth = "ready" | "suspect" | "down";

/**
 * local: the agent in this process; agent: a flotilla agent over HTTP;
 * openai / ollama: an agentless server the coordinator health-checks itself.
 */
export type NodeKind = "local" | "agent" | "openai" | "ollama";

/**
 * How fast a node answers, as the coordinator measured the requests it sent
 * there (registry/latency.ts): moving averages in milliseconds, null until the
 * first successful request. Queueing on the node counts: it is what a client waits.
 */
export interface NodeLatency {
  /** From sending the request to the first piece of text (or the whole answer when none came first). */
  firstTokenMs: number | null;
  /** From sending the request to the complete answer. */
  totalMs: number | null;
  /** Successful requests measured so far. */
  samples: number;
  /** Agentless nodes: round trip of the health check (the model list), once one succeeded. */
  probeMs?: number;
}

export interface NodeStatus {
  name: string;
  kind: NodeKind;
  health: NodeHealth;
  /** Drained nodes finish their work but get no new requests. */
  drained: boolean;
  tier: Tier;
  pool: string;
  url: string | null;
  models: ServedModel[];
  inFlight: number;
  hardware: HardwareInfo | null;
  /** Milliseconds since the node was last heard from; null for the local node. */
  lastSeenAgoMs: number | null;
  latency: NodeLatency;
  /** Relative share of traffic among equal candidates (agentless nodes declare it). */
  weight?: number;
  labels?: Record<string, string>;
  /** Why the last health check failed, while it is failing. */
  error?: string;
}

/** Requests a node can run at once: its models' slots together. */
export function slotsOf(status: Pick<NodeStatus, "models">): number {
  return status.models.reduce((sum, m) => sum + m.slots.total, 0);
}

/** A node as the coordinator sees it. */
export interface InferenceNode {
  readonly name: string;
  status(nowMs: number): NodeStatus;
  generate(request: GenerationRequest, options: GenerateOptions): Promise<GenerationResult>;
}
