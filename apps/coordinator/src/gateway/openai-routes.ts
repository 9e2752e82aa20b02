// /v1: the OpenAI-compatible surface. Each generation route validates its
// body, translates it, picks a node, and answers as JSON or as SSE.
import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  chatCompletionRequest,
  completionRequest,
  FlotillaError,
  toOpenAIErrorBody,
  type GenerationRequest,
  type GenerationResult,
  type ModelList,
  type ModelObject,
  type ModelDescriptor,
} from "@flotilla/protocol";
import type { NodeRegistry } from "../registry/node-registry.ts";
import type { Router, RouteHints } from "../router/router.ts";
import type { RouteDecision } from "../router/route.ts";
import { routeHeaders, routeHints } from "./route-hints.ts";
import { SseStream } from "./sse.ts";
import {
  chatChunk,
  chatCompletion,
  chatToGeneration,
  chatUsageChunk,
  completionToGeneration,
  textCompletion,
  usageOf,
  type ResponseIdentity,
} from "./translate.ts";
import { parseBody } from "./validate.ts";
import { toFlotillaError } from "./errors.ts";
import { rejectOtherMethods } from "./method-not-allowed.ts";

export interface OpenAIRoutesOptions {
  registry: NodeRegistry;
  router: Router;
  nowMs: () => number;
}

/** How one endpoint renders a generation: as a whole body or as stream events. */
interface Rendering {
  idPrefix: string;
  body(who: ResponseIdentity, result: GenerationResult): unknown;
  firstEvent(who: ResponseIdentity): unknown;
  textEvent(who: ResponseIdentity, text: string): unknown;
  finalEvents(who: ResponseIdentity, result: GenerationResult, includeUsage: boolean): unknown[];
}

const chatRendering: Rendering = {
  idPrefix: "chatcmpl-",
  body: chatCompletion,
  firstEvent: (who) => chatChunk(who, { role: "assistant", content: "" }),
  textEvent: (who, text) => chatChunk(who, { content: text }),
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
    return generate(request, reply, chatToGeneration(body), hints, body.stream === true, body.stream_options?.include_usage === true, chatRendering);
  });

  app.post("/v1/completions", (request, reply) => {
    const body = parseBody(completionRequest, request.body);
    const generation = completionToGeneration(body);
    const echo = body.echo === true && generation.input.kind === "completion" ? generation.input.prompt : "";
    const hints = routeHints(body, request.headers);
    return generate(request, reply, generation, hints, body.stream === true, body.stream_options?.include_usage === true, completionRendering(echo));
  });

  rejectOtherMethods(app, "/v1/models", ["GET"]);
  rejectOtherMethods(app, "/v1/models/:id", ["GET"]);
  rejectOtherMethods(app, "/v1/chat/completions", ["POST"]);
  rejectOtherMethods(app, "/v1/completions", ["POST"]);

  async function generate(
    request: FastifyRequest,
    reply: FastifyReply,
    requested: GenerationRequest,
    hints: RouteHints,
    stream: boolean,
    includeUsage: boolean,
    rendering: Rendering,
  ): Promise<unknown> {
    const decision = await options.router.decide(requested, hints);
    const node = decision.node === null ? undefined : registry.get(decision.node);
    if (!node || decision.model === null) throw unroutable(requested.model, decision);
    // "auto" and aliases become the id the node serves.
    const generation: GenerationRequest = { ...requested, model: decision.model };
    const headers = routeHeaders(decision);
    const release = options.router.dispatched(node.name, hints.session);

    // The response closes when it is done or the client hangs up: either way
    // the request no longer counts on the node, and a hang-up cancels the
    // work there at once.
    const controller = new AbortController();
    reply.raw.once("close", () => {
      release();
      if (!reply.raw.writableFinished) controller.abort(new Error("client disconnected"));
    });
    const who: ResponseIdentity = {
      id: rendering.idPrefix + randomUUID().replaceAll("-", ""),
      created: Math.floor(options.nowMs() / 1000),
      model: generation.model,
    };

    if (!stream) {
      void reply.headers(headers);
      try {
        return rendering.body(who, await node.generate(generation, { signal: controller.signal }));
      } catch (err) {
        // Nobody is left to answer; keep Fastify from writing to a closed socket.
        if (controller.signal.aborted) return reply.hijack();
        throw err;
      }
    }

    const sse = new SseStream(reply.raw, headers);
    const begin = () => {
      if (sse.started) return;
      const first = rendering.firstEvent(who);
      if (first !== undefined) sse.send(first);
    };
    reply.hijack();
    try {
      const result = await node.generate(generation, {
        signal: controller.signal,
        onText: (text) => {
          begin();
          sse.send(rendering.textEvent(who, text));
        },
      });
      begin();
      for (const event of rendering.finalEvents(who, result, includeUsage)) sse.send(event);
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
  return { id: model.id, object: "model", created: Math.floor(model.loadedAtMs / 1000), owned_by: "flotilla" };
}

/** No node for the request: the router says why. */
function unroutable(model: string, decision: RouteDecision): FlotillaError {
  switch (decision.unavailable) {
    case "tier-unavailable":
    case "no-healthy-node":
      return new FlotillaError("no_backend", `no node can take this request now: ${decision.reason}`, { retryAfterS: 1 });
    case "unknown-model":
    case "context-too-long":
    case undefined:
      return modelNotFound(model);
  }
}

function modelNotFound(model: string): FlotillaError {
  return new FlotillaError("model_not_found", `The model \`${model}\` does not exist on this cluster`, { param: "model" });
}
