// What the dispatcher reports as it works, for /metrics (metrics/) and logs.
// An interface so the dispatcher's tests can watch it without a registry.
import type { ComplexityClass } from "../router/classify.ts";
import type { QueueExit } from "./types.ts";

export type { QueueExit } from "./types.ts";

export type RequestOutcomeKind =
  /** Answered in full. */
  | "ok"
  /** Failed: every try failed, the budget was spent, or the node said no (4xx, e.g. context too long). */
  | "error"
  /** The client hung up first. */
  | "cancelled"
  /** Never dispatched: no node for it, or the busy queue was full or timed out. */
  | "rejected";

export interface RequestOutcome {
  /** The node that produced the first text; null when none did. */
  node: string | null;
  /** The model as the node serves it, or as requested when no node was chosen. */
  model: string;
  tier: number | null;
  class: ComplexityClass;
  outcome: RequestOutcomeKind;
  /** From the start of the request; null when no text came. */
  firstTokenS: number | null;
  totalS: number;
  completionTokens: number;
  /** Tries that failed on the way (retried or resumed elsewhere). */
  failedTries: number;
}


export interface DispatchObserver {
  finished(outcome: RequestOutcome): void;
  /** A try on `node` failed before any text reached the client; another node is tried. */
  retried(node: string, model: string): void;
  /** A stream's node failed mid-answer; the answer goes on on another node. */
  resumed(node: string, model: string): void;
  /** A request left the busy queue after waiting `waitS` seconds (0 for an overflow). */
  dequeued(waitS: number, exit: QueueExit): void;
}

export const silentObserver: DispatchObserver = {
  finished() {},
  retried() {},
  resumed() {},
  dequeued() {},
};
