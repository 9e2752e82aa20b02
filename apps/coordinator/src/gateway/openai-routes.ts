// /v1: the OpenAI-compatible surface. Each route validates its body,
// translates it into a workload, hands it to the dispatcher (which picks the
// node, retries and resumes), and answers as JSON or, for generations, SSE.
import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Chunk, FlotillaError } from "@flotilla/protocol";
import {
  chatCompletionRequest,
  completionRequest,
  embeddingCreateRequest,
  embeddingResultOf,
  generationResultOf,
  toOpenAIErrorBody,
  type GenerationRequest,
  type GenerationResult,
  type ModelList,
  type ModelObject,
  type ModelDescriptor,
} from "@flotilla/protocol";
import type { NodeRegistry } from "../nodes/node-registry.ts";
import type { RouteHints } from "../router/router.ts";
import type { GenerationDispatcher } from "../dispatch/types.ts";
import { modelNotFound } from "../dispatch/unroutable.ts";
import { dispatchHints, routeHeaders, routeHints, type DispatchHints } from "./route-hints.ts";
import { SseStream } from "./sse.ts";
import {
  chatChunk,
  chatCompletion,
  chatToGeneration,
  chatUsageChunk,
  completionToGeneration,
  embeddingList,
  embeddingToWorkload,
  textCompletion,
  toolCallDelta,
  usageOf,
  type ResponseIdentity,
} from "./translate.ts";
import { parseBody } from "./validate.ts";
import { toFlotillaError } from "./errors.ts";
import { rejectOtherMethods } from "./method-not-allowed.ts";

export interface OpenAIRoutesOptions {
  registry: NodeRegistry;
  dispatcher: GenerationDispatcher;
  /** The cluster file's routing.continueOnFailure: the default for requests that do not say. */
  continueOnFailure: boolean;
  /** The most tokens one answer may have: a client's larger max_tokens is capped to it. */
  maxTokensLimit: number;
  nowMs: () => number;
}

/** How one endpoint renders a generation: as a whole body or as stream events. */
interface Rendering {
  idPrefix: string;
  body(who: ResponseIdentity, result: GenerationResult): unknown;
  firstEvent(who: ResponseIdentity): unknown;
  textEvent(who: ResponseIdentity, text: string): unknown;
  /** Undefined: the endpoint has no tool calls (text completions). */
  toolCallEvent?(who: ResponseIdentity, chunk: Extract<Chunk, { type: "tool_call" }>): unknown;
  finalEvents(who: ResponseIdentity, result: GenerationResult, includeUsage: boolean): unknown[];
}

const chatRendering: Rendering = {
  idPrefix: "chatcmpl-",
  body: chatCompletion,
  firstEvent: (who) => chatChunk(who, { role: "assistant", content: "" }),
  textEvent: (who, text) => chatChunk(who, { content: text }),
  toolCallEvent: (who, chunk) => chatChunk(who, { tool_calls: [toolCallDelta(chunk)] }),
  finalEvents: (who, result, includeUsage) => [
    chatChunk(who, {}, result.finishReason),
    ...(includeUsage ? [chatUsageChunk(who, usageOf(result))] : []),
  ],
};

function completionRendering(echo: string): Rendering {
  return {
    idPrefix: "cmpl-",
    body: (who, result) => textCompletion(who, echo + result.text, result.finishReason, usageOf(result)),
    firstEvent: (who) => (echo === "" ? undefined : textCompletion(who, echo, null)),
    textEvent: (who, text) => textCompletion(who, text, null),
    finalEvents: (who, result, includeUsage) => [
      textCompletion(who, "", result.finishReason),
      ...(includeUsage ? [{ ...textCompletion(who, "", null, usageOf(result)), choices: [] }] : []),
    ],
  };
}

export function registerOpenAIRoutes(app: FastifyInstance, options: OpenAIRoutesOptions): void {
  const { registry } = options;

  app.get("/v1/models", (): ModelList => ({
    object: "list",
    data: registry.models(options.nowMs()).map(toModelObject),
  }));

  app.get<{ Params: { id: string } }>("/v1/models/:id", (request): ModelObject => {
    const model = registry.models(options.nowMs()).find((m) => m.id === request.params.id);
    if (!model) throw modelNotFound(request.params.id);
    return toModelObject(model);
  });

  app.post("/v1/chat/completions", (request, reply) => {
    const body = parseBody(chatCompletionRequest, request.body);
    const hints = routeHints(body, request.headers);
    const handling = dispatchHints(body, request.headers, options.continueOnFailure);
    return generate(request, reply, chatToGeneration(body, options.maxTokensLimit), hints, handling, body.stream === true, body.stream_options?.include_usage === true, chatRendering);
  });

  app.post("/v1/completions", (request, reply) => {
    const body = parseBody(completionRequest, request.body);
    const generation = completionToGeneration(body, options.maxTokensLimit);
    const echo = body.echo === true && generation.input.kind === "completion" ? generation.input.prompt : "";
    const hints = routeHints(body, request.headers);
    const handling = dispatchHints(body, request.headers, options.continueOnFailure);
    return generate(request, reply, generation, hints, handling, body.stream === true, body.stream_options?.include_usage === true, completionRendering(echo));
  });

  app.post("/v1/embeddings", async (request, reply) => {
    const body = parseBody(embeddingCreateRequest, request.body);
    const workload = embeddingToWorkload(body);
    const controller = new AbortController();
    reply.raw.once("close", () => {
      if (!reply.raw.writableFinished) controller.abort(new Error("client disconnected"));
    });
    try {
      const answer = await options.dispatcher.run({
        workload,
        hints: routeHints(body, request.headers),
        ...dispatchHints(body, request.headers, false),
        signal: controller.signal,
      });
      void reply.headers(routeHeaders(answer.decision));
      return embeddingList(answer.decision.model, embeddingResultOf(answer.result), body.encoding_format ?? "float");
    } catch (err) {
      if (controller.signal.aborted) return reply.hijack();
      throw err;
    }
  });

  rejectOtherMethods(app, "/v1/models", ["GET"]);
  rejectOtherMethods(app, "/v1/embeddings", ["POST"]);
  rejectOtherMethods(app, "/v1/models/:id", ["GET"]);
  rejectOtherMethods(app, "/v1/chat/completions", ["POST"]);
  rejectOtherMethods(app, "/v1/completions", ["POST"]);

  async function generate(
    request: FastifyRequest,
    reply: FastifyReply,
    generation: GenerationRequest,
    hints: RouteHints,
    handling: DispatchHints,
    stream: boolean,
    includeUsage: boolean,
    rendering: Rendering,
  ): Promise<unknown> {
    // A client that hangs up cancels the work at once, wherever it is: in the
    // busy queue, on a node, or between two tries.
    const controller = new AbortController();
    reply.raw.once("close", () => {
      if (!reply.raw.writableFinished) controller.abort(new Error("client disconnected"));
    });
    const who: ResponseIdentity = {
      id: rendering.idPrefix + randomUUID().replaceAll("-", ""),
      created: Math.floor(options.nowMs() / 1000),
      model: generation.model,
    };
    const dispatch = {
      workload: generation,
      hints,
      priority: handling.priority,
      continueOnFailure: handling.continueOnFailure,
      signal: controller.signal,
    };

    if (!stream) {
      try {
        const answer = await options.dispatcher.run(dispatch);
        who.model = answer.decision.model;
        void reply.headers(routeHeaders(answer.decision));
        return rendering.body(who, generationResultOf(answer.result));
      } catch (err) {
        // Nobody is left to answer; keep Fastify from writing to a closed socket.
        if (controller.signal.aborted) return reply.hijack();
        throw err;
      }
    }

    const sse = new SseStream(reply.raw);
    const begin = () => {
      if (sse.started) return;
      const first = rendering.firstEvent(who);
      if (first !== undefined) sse.send(first);
    };
    reply.hijack();
    try {
      const answer = await options.dispatcher.run({
        ...dispatch,
        onAnswering: (decision) => {
          // The head goes out with the first event, naming the node that answers.
          who.model = decision.model;
          sse.addHeaders(routeHeaders(decision));
        },
        onChunk: (chunk) => {
          if (chunk.type === "text") {
            begin();
            sse.send(rendering.textEvent(who, chunk.text));
          } else if (chunk.type === "tool_call" && rendering.toolCallEvent) {
            begin();
            sse.send(rendering.toolCallEvent(who, chunk));
          }
        },
      });
      begin();
      const finals = rendering.finalEvents(who, generationResultOf(answer.result), includeUsage);
      // The finishing chunk says when the answer was resumed on another node, and where.
      if (answer.resumed) finals[0] = { ...(finals[0] as object), flotilla: { resumed: true, nodes: answer.nodes } };
      for (const event of finals) sse.send(event);
      sse.done();
    } catch (err) {
      if (controller.signal.aborted) return undefined;
      const failure = toFlotillaError(err, request.log);
      if (sse.started) sse.fail(toOpenAIErrorBody(failure));
      else sendError(reply, failure);
    }
    return undefined;
  }
}

/** An error answer written by hand, for replies Fastify no longer owns. */
function sendError(reply: FastifyReply, failure: FlotillaError): void {
  const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8" };
  if (failure.retryAfterS !== undefined) headers["retry-after"] = String(failure.retryAfterS);
  reply.raw.writeHead(failure.status, headers).end(JSON.stringify(toOpenAIErrorBody(failure)));
}

function toModelObject(model: ModelDescriptor): ModelObject {
  return { id: model.id, object: "model", created: Math.floor(model.loadedAtMs / 1000), owned_by: "flotilla", max_model_len: model.contextSize };
}
