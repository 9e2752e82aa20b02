// POST /cluster/execute: one query in a conversation the coordinator holds.
// Nodes are stateless, so the stored turns travel with every query; the
// exchange is stored only once the answer is complete, so a failed, timed-out
// or abandoned query leaves the conversation as it was. The answer says which
// node (tier, class, model) gave it. A client key is enough (unlike the rest
// of /cluster): running a query is what client keys are for. A conversation
// answers only the caller that started it (docs/adr/0026): to any other it is
// 404, as if it did not exist; it can be deleted, and expires when idle.
import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { FlotillaError, generationResultOf, type ChatTurn, type FinishReason, type GenerationRequest, type Tier, type Usage } from "@flotilla/protocol";
import type { DispatchResult, GenerationDispatcher } from "../dispatch/types.ts";
import type { RouteHints } from "../router/router.ts";
import type { ComplexityClass } from "../router/classify.ts";
import type { Conversations } from "../store/conversations.ts";
import { parseBody } from "../gateway/validate.ts";
import { rejectOtherMethods } from "../gateway/method-not-allowed.ts";
import { usageOf } from "../gateway/translate.ts";
import type { Caller } from "./conversation-owner.ts";
import { ConversationRetention } from "./conversation-retention.ts";

/**
 * Turns of history sent with a query: the newest 50 (25 exchanges). Enough
 * for a working conversation, and it keeps one long conversation from growing
 * every prompt without end; older turns stay stored but are no longer sent.
 * A node whose context still cannot hold it answers context_length_exceeded.
 */
export const MAX_HISTORY_TURNS = 50;
/** The longest `timeout` a client may set, in seconds. */
export const MAX_TIMEOUT_S = 600;

const tier = z.union([z.literal(0), z.literal(1), z.literal(2)]);

// Strict: a misspelt field (`conversationId`) is refused, not silently
// ignored, since ignoring it would start a new conversation. Optional fields
// accept null as well, as clients that serialise "no value" as null send it.
const executeBody = z.strictObject({
  query: z.string().regex(/\S/, "must not be empty"),
  /** Instructions for this query only, sent as a system turn before the history; never stored. */
  context: z.string().nullish(),
  conversation_id: z.string().min(1).max(256).nullish(),
  /** None: the cluster's default model ("auto" routing). */
  model: z.string().min(1).max(256).nullish(),
  max_tokens: z.int().min(1).max(1_000_000).nullish(),
  prefer_tier: tier.nullish(),
  /** Whether other tiers may answer when `prefer_tier` has no node for it (default true). */
  tier_fallback: z.boolean().nullish(),
  /** Seconds until the query is abandoned and answered 504. */
  timeout: z.number().positive().max(MAX_TIMEOUT_S).nullish(),
});
type ExecuteBody = z.infer<typeof executeBody>;

export interface ExecuteResponse {
  conversation_id: string;
  answer: string;
  node: string | null;
  tier: Tier | null;
  class: ComplexityClass;
  model: string | null;
  /** The answer was finished on another node after its first node failed mid-way. */
  resumed: boolean;
  finish_reason: FinishReason;
  usage: Usage;
}

export interface ExecuteRoutesOptions {
  dispatcher: GenerationDispatcher;
  conversations: Conversations;
  /** Who sent the request (api/conversation-owner.ts). */
  callerOf: (request: FastifyRequest) => Caller;
  /** How long a conversation is kept after its last turn (default 30 days). */
  conversationTtlMs: number;
  nowMs: () => number;
}

export function registerExecuteRoutes(app: FastifyInstance, options: ExecuteRoutesOptions): void {
  const { dispatcher, conversations, callerOf, nowMs } = options;
  const retention = new ConversationRetention(conversations, options.conversationTtlMs);

  app.post("/cluster/execute", async (request, reply) => {
    const body = parseBody(executeBody, request.body);
    const { owner } = callerOf(request);
    const given = body.conversation_id ?? undefined;
    await retention.sweep(nowMs(), given !== undefined);
    const history = given === undefined ? [] : await conversations.turns(given, owner, MAX_HISTORY_TURNS);
    if (history === null) throw conversationNotFound(given);
    // The id exists before the answer so the router can keep the
    // conversation on one node (its prompt cache); it is stored only after.
    const conversationId = given ?? randomUUID();
    const question: ChatTurn = { role: "user", content: body.query };

    // The client hanging up, or its deadline passing, stops the work wherever it is.
    const hangUp = new AbortController();
    reply.raw.once("close", () => {
      if (!reply.raw.writableFinished) hangUp.abort(new Error("client disconnected"));
    });
    const deadline = body.timeout == null ? undefined : AbortSignal.timeout(Math.ceil(body.timeout * 1000));
    const signal = deadline === undefined ? hangUp.signal : AbortSignal.any([hangUp.signal, deadline]);

    let done: DispatchResult;
    try {
      done = await dispatcher.run({
        workload: generationOf(body, history, question),
        hints: hintsOf(body, conversationId),
        priority: "normal",
        // Nothing is streamed to this client: a node failing half-way is
        // retried from scratch on another, which needs no resumption.
        continueOnFailure: false,
        signal,
      });
    } catch (err) {
      // Nobody is left to answer; keep Fastify from writing to a closed socket.
      if (hangUp.signal.aborted) return reply.hijack();
      if (deadline?.aborted === true) {
        throw new FlotillaError("timeout", `no complete answer within the timeout of ${body.timeout} s`, { param: "timeout", cause: err });
      }
      throw err;
    }
    // An answer the client never received is not part of its conversation.
    if (hangUp.signal.aborted) return reply.hijack();

    const result = generationResultOf(done.result);
    const answer: ChatTurn = { role: "assistant", content: result.text };
    await remember(conversations, { id: conversationId, owner, isNew: given === undefined }, [question, answer], nowMs());
    const response: ExecuteResponse = {
      conversation_id: conversationId,
      answer: result.text,
      node: done.decision.node,
      tier: done.decision.tier,
      class: done.decision.class,
      model: done.decision.model,
      resumed: done.resumed,
      finish_reason: result.finishReason,
      usage: usageOf(result),
    };
    return response;
  });

  rejectOtherMethods(app, "/cluster/execute", ["POST"]);

  // The owner deletes its conversation; the admin key may delete any (an operator cleaning up).
  app.delete<{ Params: { id: string } }>("/cluster/conversations/:id", async (request, reply) => {
    const caller = callerOf(request);
    const { id } = request.params;
    if (!(await conversations.remove(id, caller.admin ? undefined : caller.owner))) throw conversationNotFound(id);
    return reply.code(204).send();
  });
  rejectOtherMethods(app, "/cluster/conversations/:id", ["DELETE"]);
}

/** The same answer whether the id is unknown or another caller's: an id leaks nothing. */
function conversationNotFound(id: string | undefined): FlotillaError {
  return new FlotillaError("not_found", `no conversation has the id ${JSON.stringify(id)}`, { param: "conversation_id" });
}

/** Context (a system turn), the stored history, then the query. */
function generationOf(body: ExecuteBody, history: readonly ChatTurn[], question: ChatTurn): GenerationRequest {
  const context = body.context ?? "";
  const messages: ChatTurn[] = [...(context.trim() === "" ? [] : [{ role: "system" as const, content: context }]), ...history, question];
  return {
    // "" is no model: the router's default, else any ("auto").
    model: body.model ?? "",
    input: { kind: "chat", messages },
    params: {
      maxTokens: body.max_tokens ?? undefined,
      temperature: undefined,
      topP: undefined,
      seed: undefined,
      stop: [],
      presencePenalty: undefined,
      frequencyPenalty: undefined,
    },
  };
}

function hintsOf(body: ExecuteBody, conversationId: string): RouteHints {
  return {
    session: conversationId,
    ...(body.prefer_tier == null ? {} : { forceTier: { tier: body.prefer_tier, fallback: body.tier_fallback ?? true } }),
  };
}

interface ConversationRef {
  id: string;
  owner: string;
  isNew: boolean;
}

async function remember(conversations: Conversations, { id, owner, isNew }: ConversationRef, turns: ChatTurn[], nowMs: number): Promise<void> {
  if (isNew && !(await conversations.create(id, owner, nowMs))) {
    // A random UUID already taken: never expected; refuse rather than mix two conversations.
    throw new FlotillaError("internal_error", "could not create a new conversation");
  }
  // Deleted or expired while the answer was being made.
  if (!(await conversations.append(id, owner, turns, nowMs))) throw conversationNotFound(id);
}
