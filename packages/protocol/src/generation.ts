// What the coordinator asks of a node, independent of the OpenAI wire format:
// the gateway translates OpenAI bodies into a GenerationRequest once, and every
// kind of node (the in-process agent, a remote agent, later an agentless
// server) answers the same interface.
import type { FinishReason } from "./openai.ts";

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
}

export interface ModelDescriptor {
  id: string;
  /** Tokens one request can hold (prompt + completion). */
  contextSize: number;
  loadedAtMs: number;
}

export interface SlotStatus {
  total: number;
  busy: number;
  queued: number;
}

export interface NodeStatus {
  name: string;
  state: "ready" | "no_models";
  models: Array<ModelDescriptor & { slots: SlotStatus }>;
}

/** A node as the coordinator sees it. */
export interface InferenceNode {
  readonly name: string;
  status(): NodeStatus;
  generate(request: GenerationRequest, options: GenerateOptions): Promise<GenerationResult>;
}
