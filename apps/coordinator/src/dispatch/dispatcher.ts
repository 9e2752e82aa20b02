// Runs one workload on the cluster so that failures stay out of the
// client's sight where they can (ADR 0014, ADR 0018):
// - route it (router/) by capability and model, waiting in the busy queue
//   while every node able to take it is full;
// - run it on the node under the tier's connect / first-token / idle
//   timeouts (try-node.ts);
// - the error says what to do (FlotillaError.retryable, .nodeFault): a node
//   failure (unreachable, timeout, 5xx) counts against its circuit; a busy
//   node (its 408/429/503) does not, and one that said Retry-After gets no
//   request until then; either is retried on another node, within the retry
//   budget, before any chunk reached the client; after, a stream is resumed
//   on another node when continue_on_failure asks for it, else the failure
//   is the caller's to report;
// - an error retrying cannot help (the request's own fault: a 4xx, context
//   too long, a bad parameter) goes back to the client at once; the node did
//   answer, so it counts as a success for its circuit.
import { FlotillaError, type GenerationRequest, type WorkloadResult } from "@flotilla/protocol";
import type { NodeRegistry } from "../nodes/node-registry.ts";
import type { Router } from "../router/router.ts";
import type { ChosenRoute, UnavailableRoute } from "../router/decision.ts";
import type { RouteRequest } from "../router/route.ts";
import { estimateTokens } from "../router/tokens.ts";
import type { BusyQueue } from "./busy-queue.ts";
import type { CircuitBook } from "./circuit-breaker.ts";
import { continuation, resumable } from "./continuation.ts";
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
  decision: ChosenRoute;
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
    const plan = await this.#p.router.plan(req.workload, req.hints, req.classification);
    const exclude = new Set<string>();
    const nodes: string[] = [];
    let answering: ChosenRoute | undefined;
    let sent = ""; // text the client has been given
    let chunksSent = 0;
    let sentTokens = 0; // what the chunks sent say they used, from nodes that then failed
    let firstChunkMs: number | null = null;
    let failedTries = 0;
    let resumed = false;
    let workload = req.workload;
    let lastFailure: FlotillaError | undefined;
    let model = req.workload.model;

    const finish = (outcome: RequestOutcomeKind, completionTokens: number): void => {
      const ended = nowMs();
      observer.finished({
        node: answering?.node ?? null,
        model,
        tier: answering?.tier ?? null,
        class: plan.classification.class,
        outcome,
        firstTokenS: firstChunkMs === null ? null : (firstChunkMs - startedMs) / 1000,
        totalS: (ended - startedMs) / 1000,
        completionTokens,
        failedTries,
      });
    };
    const announce = (decision: ChosenRoute): void => {
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
      const name = decision.node;
      model = decision.model;
      const node = this.#p.registry.get(name);
      const tier = decision.tier;
      const sentBefore = sent.length;
      let tryTokens = 0;
      let tryFirstChunkMs: number | undefined;
      try {
        if (!node) throw new FlotillaError("backend_error", `node ${name} left the cluster`);
        const result = await tryNode(node, { ...workload, model }, {
          signal: req.signal,
          timeouts: this.#p.timeouts[tier],
          onChunk: (chunk) => {
            if (tryFirstChunkMs === undefined) req.onTryFirstChunk?.();
            tryFirstChunkMs ??= nowMs();
            // Without a stream nothing reaches the client until the answer is
            // whole: a try that fails half-way leaves no trace in it.
            if (!req.onChunk) return;
            announce(decision);
            firstChunkMs ??= tryFirstChunkMs;
            if (nodes.at(-1) !== name) nodes.push(name);
            chunksSent++;
            if (chunk.type === "text") {
              sent += chunk.text;
              tryTokens += chunk.tokens ?? estimateTokens(chunk.text);
            }
            req.onChunk(chunk);
          },
        });
        circuits.succeeded(name);
        firstChunkMs ??= tryFirstChunkMs ?? nowMs();
        announce(decision);
        if (nodes.at(-1) !== name) nodes.push(name);
        const whole: WorkloadResult = resumed && result.kind === "generation"
          ? {
            ...result,
            text: sent.slice(0, sentBefore) + result.text,
            // The resumed request's prompt held the text already sent.
            promptTokens: Math.max(0, result.promptTokens - sentTokens),
            completionTokens: sentTokens + result.completionTokens,
          }
          : result;
        finish("ok", whole.kind === "generation" ? whole.completionTokens : 0);
        return { result: whole, decision: answering ?? decision, nodes, failedTries, resumed };
      } catch (err) {
        if (req.signal.aborted) {
          circuits.abandoned(name);
          finish("cancelled", sentTokens + tryTokens);
          throw err;
        }
        const failure = asFailure(err, name);
        if (!failure.retryable) {
          // The request's fault, not the node's (it answered): another node would say the same.
          if (failure.nodeFault) circuits.failed(name, nowMs());
          else circuits.succeeded(name);
          finish("error", sentTokens + tryTokens);
          throw failure;
        }
        if (failure.nodeFault) circuits.failed(name, nowMs());
        else if (failure.retryAfterS !== undefined) circuits.pause(name, nowMs() + failure.retryAfterS * 1000);
        else circuits.abandoned(name);
        exclude.add(name);
        failedTries++;
        lastFailure = failure;
        if (chunksSent > 0 && !(req.continueOnFailure && resumable(req.workload))) {
          // Chunks reached the client: a retry from scratch would repeat them.
          finish("error", sentTokens + tryTokens);
          throw failure;
        }
        if (!budget.tryRetry(nowMs())) {
          finish("error", sentTokens + tryTokens);
          throw new FlotillaError(failure.code, `${failure.message} (not retried: the retry budget is spent)`, { cause: failure, ...(failure.retryAfterS === undefined ? {} : { retryAfterS: failure.retryAfterS }) });
        }
        if (chunksSent > 0 && resumable(req.workload)) {
          sentTokens += tryTokens;
          const next = continuation(req.workload, sent, sentTokens);
          resumed = true;
          observer.resumed(name, model);
          if (!next) {
            // max_tokens was reached as the node died: the answer is complete.
            finish("ok", sentTokens);
            return {
              result: { kind: "generation", text: sent, finishReason: "length", promptTokens: 0, completionTokens: sentTokens },
              decision: answering ?? decision, nodes, failedTries, resumed,
            };
          }
          workload = next satisfies GenerationRequest;
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
    const refuse = (decision: UnavailableRoute): FlotillaError =>
      lastFailure ?? unroutable(req.workload.model, decision, request.pool);
    const take = (decision: ChosenRoute): Taken => ({ decision, release: router.dispatched(decision.node, req.hints.session) });

    const decision = router.route(request);
    if (decision.kind === "unavailable") throw refuse(decision);
    if (!decision.full || lastFailure !== undefined || queue.disabled) return take(decision);
    // Every node that can take it is full (a retry does not queue: it would
    // wait behind requests that never failed, and the client already waited).
    // A node that has the model but unloaded it when idle loads it meanwhile:
    // the first one, so that a burst does not load it everywhere at once.
    const unloaded = router.unloaded(request)[0];
    if (unloaded !== undefined) this.#p.registry.get(unloaded.node)?.loadModel?.(unloaded.model);
    let outcome: Taken | UnavailableRoute | undefined;
    await queue.wait(req.priority, req.signal, () => {
      const now = router.route(request);
      if (now.kind === "unavailable") outcome = now;
      else if (!now.full) outcome = take(now);
      return outcome !== undefined;
    }, request.pool);
    // wait() resolves only once the callback said yes, so outcome is set; the check is for the compiler.
    if (outcome === undefined) throw new FlotillaError("server_busy", "the busy queue let the request go without a node", { retryAfterS: 1 });
    if ("release" in outcome) return outcome;
    throw refuse(outcome);
  }
}

function asFailure(err: unknown, node: string): FlotillaError {
  if (err instanceof FlotillaError) return err;
  return new FlotillaError("backend_error", `node ${node} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
