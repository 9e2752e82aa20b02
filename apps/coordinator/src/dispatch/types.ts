// What the gateway (and /cluster/execute) asks of the dispatcher, and what it
// gets back: one workload of any kind, routed, retried on other nodes when a
// node fails before any chunk reached the client, resumed on another node
// when one dies mid-stream (continue_on_failure, generations only), queued
// while every node is full.
import type { Chunk, Workload, WorkloadResult } from "@flotilla/protocol";
import type { RouteHints } from "../router/router.ts";
import type { ChosenRoute } from "../router/decision.ts";
import type { Classification } from "../router/classify.ts";

/** Busy-queue order: high before normal before low, FIFO within each. */
export type Priority = "high" | "normal" | "low";

/** How a request left the busy queue. */
export type QueueExit = "dispatched" | "timeout" | "overflow" | "cancelled";

export interface DispatchRequest {
  workload: Workload;
  hints: RouteHints;
  priority: Priority;
  /** A stream whose node fails after text was sent goes on on another node serving the model. */
  continueOnFailure: boolean;
  /** The client hung up (or its deadline passed): stop at once, wherever the request is. */
  signal: AbortSignal;
  /**
   * Streaming: each chunk, in order, as nodes confirm it. A chunk given here
   * counts as sent to the client: after it a failure can no longer be
   * retried from scratch, only resumed or reported.
   */
  onChunk?: (chunk: Chunk) => void;
  /** Skips classifying: the classifier's own queries to a model must not be classified by it. */
  classification?: Classification;
  /**
   * Called when a try's node sends its first chunk, streamed or not (a
   * failed try's call is followed by the next try's): Ollama's
   * prompt_eval_duration and eval_duration are measured from it.
   */
  onTryFirstChunk?: () => void;
  /** Called once, before the first text (or the result), with the decision of the node that answers. */
  onAnswering?: (decision: ChosenRoute) => void;
}

export interface DispatchResult {
  /** The whole answer: text from every node that contributed, usage summed. */
  result: WorkloadResult;
  /** The decision for the node that produced the first chunk. */
  decision: ChosenRoute;
  /** Nodes that contributed text, in order (more than one only when resumed). */
  nodes: string[];
  /** Tries that failed before this answer (retries and resumptions). */
  failedTries: number;
  /** The answer was resumed on another node after its first node failed mid-way. */
  resumed: boolean;
}

export interface GenerationDispatcher {
  run(request: DispatchRequest): Promise<DispatchResult>;
}
