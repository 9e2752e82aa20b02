// Runs one generation on the cluster so that failures stay out of the
// client's sight where they can (ADR 0014):
// - route it (router/), waiting in the busy queue while every node able to
//   take it is full;
// - run it on the node under the tier's connect / first-token / idle
//   timeouts (try-node.ts);
// - a node failure (unreachable, timeout, 5xx, busy) counts against its
//   circuit; before any text reached the client the request is retried on
//   another node, within the retry budget; after, a stream is resumed on
//   another node when continue_on_failure asks for it, else the failure is
//   the caller's to report;
// - a client error (4xx: context too long, a bad parameter) is not the
//   node's fault: it goes back to the client at once and counts for nothing.
import { FlotillaError, type GenerationRequest, type GenerationResult } from "@flotilla/protocol";
import type { NodeRegistry } from "../registry/node-registry.ts";
import type { Router } from "../router/router.ts";
import type { RouteDecision, RouteRequest } from "../router/route.ts";
import { estimateTokens } from "../router/tokens.ts";
import type { BusyQueue } from "./busy-queue.ts";
import type { CircuitBook } from "./circuit-breaker.ts";
import { continuation } from "./continuation.ts";
import type { DispatchObserver, RequestOutcomeKind } from "./observer.ts";
import type { RetryBudget } from "./retry-budget.ts";
import type { TimeoutPolicy } from "./timeouts.ts";
import { tryNode } from "./try-node.ts";
import type { DispatchRequest, DispatchResult, GenerationDispatcher } from "./types.ts";
import { unroutable } from "./unroutable.ts";

export interface DispatcherParts {
  registry: NodeRegistry;
  router: Router;
  circuits: CircuitBook;
  budget: RetryBudget;
  queue: BusyQueue;
  timeouts: TimeoutPolicy;
  observer: DispatchObserver;
  nowMs: () => number;
}

/** A slot taken on a node for one try. */
interface Taken {
  decision: RouteDecision;
  release: () => void;
}

export class Dispatcher implements GenerationDispatcher {
  readonly #p: DispatcherParts;

  constructor(parts: DispatcherParts) {
    this.#p = parts;
  }

  async run(req: DispatchRequest): Promise<DispatchResult> {
    const { nowMs, budget, circuits, observer } = this.#p;
    const startedMs = nowMs();
    budget.request(startedMs);
    const plan = await this.#p.router.plan(req.generation, req.hints, req.classification);
    const exclude = new Set<string>();
    const nodes: string[] = [];
    let answering: RouteDecision | undefined;
    let sent = ""; // text the client has been given
    let sentTokens = 0; // by estimate, from nodes that then failed
    let firstTextMs: number | null = null;
    let failedTries = 0;
    let resumed = false;
    let generation: GenerationRequest = req.generation;
    let lastFailure: FlotillaError | undefined;
    let model = req.generation.model;

    const finish = (outcome: RequestOutcomeKind, completionTokens: number): void => {
      const ended = nowMs();
      observer.finished({
        node: answering?.node ?? null,
        model,
        tier: answering?.tier ?? null,
        class: plan.classification.class,
        outcome,
        firstTokenS: firstTextMs === null ? null : (firstTextMs - startedMs) / 1000,
        totalS: (ended - startedMs) / 1000,
        completionTokens,
        failedTries,
      });
    };
    const announce = (decision: RouteDecision): void => {
      if (answering) return;
      answering = decision;
      req.onAnswering?.(decision);
    };

    for (;;) {
      let taken: Taken;
      try {
        taken = await this.#take({ ...plan, exclude }, req, lastFailure);
      } catch (err) {
        finish(req.signal.aborted ? "cancelled" : nodes.length === 0 && lastFailure === undefined ? "rejected" : "error", sentTokens);
        throw err;
      }
      const { decision } = taken;
      const name = decision.node as string;
      model = decision.model ?? model;
      const node = this.#p.registry.get(name);
      const tier = decision.tier ?? 0;
      const sentBefore = sent.length;
      let tryFirstTextMs: number | undefined;
      try {
        if (!node) throw new FlotillaError("backend_error", `node ${name} left the cluster`);
        const result = await tryNode(node, { ...generation, model }, {
          signal: req.signal,
          timeouts: this.#p.timeouts[tier],
          onText: (text) => {
            tryFirstTextMs ??= nowMs();
            // Without a stream nothing reaches the client until the answer is
            // whole: a try that fails half-way leaves no trace in it.
            if (!req.onText) return;
            announce(decision);
            firstTextMs ??= tryFirstTextMs;
            if (nodes.at(-1) !== name) nodes.push(name);
            sent += text;
            req.onText(text);
          },
        });
        circuits.succeeded(name);
        firstTextMs ??= tryFirstTextMs ?? nowMs();
        announce(decision);
        if (nodes.at(-1) !== name) nodes.push(name);
        const whole: GenerationResult = resumed
          ? { ...result, text: sent.slice(0, sentBefore) + result.text, completionTokens: sentTokens + result.completionTokens }
          : result;
        finish("ok", whole.completionTokens);
        return { result: whole, decision: answering ?? decision, nodes, failedTries, resumed };
      } catch (err) {
        if (req.signal.aborted) {
          circuits.abandoned(name);
          finish("cancelled", sentTokens);
          throw err;
        }
        const failure = asFailure(err, name);
        if (failure.status < 500) {
          // The request's fault, not the node's: another node would say the same.
          circuits.succeeded(name);
          finish("error", sentTokens);
          throw failure;
        }
        circuits.failed(name, nowMs());
        exclude.add(name);
        failedTries++;
        lastFailure = failure;
        const fresh = sent.slice(sentBefore);
        if (sent.length > 0 && !req.continueOnFailure) {
          // Text reached the client: a retry from scratch would repeat it.
          finish("error", sentTokens + estimateTokens(fresh));
          throw failure;
        }
        if (!budget.tryRetry(nowMs())) {
          finish("error", sentTokens + estimateTokens(fresh));
          throw new FlotillaError(failure.code, `${failure.message} (not retried: the retry budget is spent)`, { cause: failure, ...(failure.retryAfterS === undefined ? {} : { retryAfterS: failure.retryAfterS }) });
        }
        if (sent.length > 0) {
          sentTokens += estimateTokens(fresh);
          const next = continuation(req.generation, sent);
          resumed = true;
          observer.resumed(name, model);
          if (!next) {
            // max_tokens was reached as the node died: the answer is complete.
            finish("ok", sentTokens);
            return {
              result: { text: sent, finishReason: "length", promptTokens: 0, completionTokens: sentTokens },
              decision: answering ?? decision, nodes, failedTries, resumed,
            };
          }
          generation = next;
        } else {
          observer.retried(name, model);
        }
      } finally {
        taken.release();
      }
    }
  }

  /** Routes the request and takes a slot on its node, waiting in the busy queue while all are full. */
  async #take(request: RouteRequest, req: DispatchRequest, lastFailure: FlotillaError | undefined): Promise<Taken> {
    const { router, queue } = this.#p;
    const refuse = (decision: RouteDecision): FlotillaError =>
      lastFailure ?? unroutable(req.generation.model, decision);
    const take = (decision: RouteDecision): Taken => ({ decision, release: router.dispatched(decision.node as string, req.hints.session) });

    const decision = router.route(request);
    if (decision.node === null) throw refuse(decision);
    if (!decision.full || lastFailure !== undefined || queue.disabled) return take(decision);
    // Every node that can take it is full (a retry does not queue: it would
    // wait behind requests that never failed, and the client already waited).
    let outcome: Taken | RouteDecision | undefined;
    await queue.wait(req.priority, req.signal, () => {
      const now = router.route(request);
      if (now.node === null) outcome = now;
      else if (!now.full) outcome = take(now);
      return outcome !== undefined;
    });
    if (outcome === undefined || !("release" in outcome)) throw refuse(outcome ?? decision);
    return outcome;
  }
}

function asFailure(err: unknown, node: string): FlotillaError {
  if (err instanceof FlotillaError) return err;
  return new FlotillaError("backend_error", `node ${node} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
