// /api: Ollama's API on the coordinator, for Open WebUI, the `ollama`
// clients and tools built for Ollama. An interface, not a second gateway:
// each route validates its body, translates it into the same workload /v1
// makes, and hands it to the same dispatcher (routing, failover, busy queue,
// metrics), under the same client keys; only the wire format differs.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  embeddingResultOf,
  FLOTILLA_VERSION,
  FlotillaError,
  generationResultOf,
  type GenerationRequest,
  type GenerationResult,
  type ModelInfo,
} from "@flotilla/protocol";
import type { NodeRegistry } from "../../nodes/node-registry.ts";
import type { GenerationDispatcher } from "../../dispatch/types.ts";
import { dispatchHints, routeHeaders, routeHints } from "../route-hints.ts";
import { parseBody } from "../validate.ts";
import { toFlotillaError } from "../errors.ts";
import { ollamaModelNotFound, toOllamaErrorBody } from "./ollama-errors.ts";
import {
  ollamaChatRequest,
  ollamaEmbeddingsRequest,
  ollamaEmbedRequest,
  ollamaGenerateRequest,
  ollamaShowRequest,
} from "./ollama-schemas.ts";
import {
  chatChunk,
  chatFinal,
  chatToGeneration,
  embeddingsToWorkload,
  embedToWorkload,
  generateChunk,
  generateFinal,
  generateToGeneration,
  isEmptyChat,
  isEmptyPrompt,
  loadAnswer,
  messageOf,
  type Durations,
} from "./ollama-translate.ts";
import { holdersOf, ollamaName, resolveModelName, runningOf, showOf, tagsOf } from "./ollama-models.ts";
import { AnswerClock } from "./ollama-timing.ts";
import { NdjsonStream } from "./ndjson-stream.ts";

/**
 * The Ollama API level these routes follow (/api/embed, tools, structured
 * `format`, `done_reason`): clients compare it with Ollama's releases to
 * decide what they may ask. flotilla's own version is beside it.
 */
export const OLLAMA_API_VERSION = "0.9.0";

/** How long /api/show waits for a node's model facts before answering with what the status says. */
const MODEL_INFO_TIMEOUT_MS = 5_000;

export interface OllamaRoutesOptions {
  registry: NodeRegistry;
  dispatcher: GenerationDispatcher;
  /** The cluster file's routing.continueOnFailure. */
  continueOnFailure: boolean;
  maxTokensLimit: number;
  /** The same client-key check as /v1. */
  requireClientKey: (request: FastifyRequest) => Promise<void>;
  nowMs: () => number;
}

/** How one route renders a generation. */
interface Rendering {
  chunk(stamp: Stamp, text: string): unknown;
  final(stamp: Stamp, result: GenerationResult, durations: Durations, streamed: boolean): Record<string, unknown>;
}

interface Stamp {
  model: string;
  created_at: string;
}

const chatRendering: Rendering = {
  chunk: (stamp, text) => chatChunk(stamp, messageOf(text)),
  final: (stamp, result, durations, streamed) => ({ ...chatFinal(stamp, result, durations, streamed) }),
};

const generateRendering: Rendering = {
  chunk: generateChunk,
  final: (stamp, result, durations, streamed) => ({ ...generateFinal(stamp, result, durations, streamed) }),
};

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
const METHODS: readonly Method[] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/** 405 with Allow in Ollama's shape: the path is right, the method is not. */
function rejectOtherMethods(app: FastifyInstance, url: string, allowed: readonly Method[]): void {
  const allow = allowed.includes("GET") ? [...allowed, "HEAD"] : [...allowed];
  app.route({
    method: METHODS.filter((m) => !allowed.includes(m)),
    url,
    handler: (request, reply) =>
      reply
        .code(405)
        .header("allow", allow.join(", "))
        .send(toOllamaErrorBody(new FlotillaError("method_not_allowed", `${request.method} is not allowed on ${url}; allowed: ${allow.join(", ")}`))),
  });
}

export function registerOllamaRoutes(app: FastifyInstance, options: OllamaRoutesOptions): void {
  // Public, as Ollama's: clients and load balancers probe them to find the server.
  app.get("/", (_request, reply) => reply.type("text/plain; charset=utf-8").send("Ollama is running"));
  app.get("/api/version", () => ({ version: OLLAMA_API_VERSION, flotilla: FLOTILLA_VERSION }));
  rejectOtherMethods(app, "/", ["GET"]);
  rejectOtherMethods(app, "/api/version", ["GET"]);

  void app.register((api, _opts, done) => {
    api.addHook("onRequest", options.requireClientKey);
    registerClientRoutes(api, options);
    done();
  });
}

function registerClientRoutes(app: FastifyInstance, options: OllamaRoutesOptions): void {
  const { registry, nowMs } = options;
  const stampOf = (model: string): Stamp => ({ model, created_at: new Date(nowMs()).toISOString() });
  /** Answers name the model as the client did (Ollama echoes it), unless the cluster chose another (`auto`). */
  const answeredName = (asked: string, requested: string, chosen: string) => (chosen === requested ? asked : ollamaName(chosen));
  const servedIds = () => registry.models(nowMs()).map((m) => m.id);
  /** The id a client's name stands for; an unknown one is passed on for the dispatcher to judge (503 while a restarted node is expected back). */
  const modelIdOf = (name: string) => resolveModelName(name, servedIds()) ?? name;

  app.get("/api/tags", () => ({ models: tagsOf(registry.statuses(nowMs())) }));
  app.get("/api/ps", () => ({ models: runningOf(registry.statuses(nowMs())) }));

  app.post("/api/show", async (request) => {
    const body = parseBody(ollamaShowRequest, request.body);
    const name = body.model ?? body.name ?? "";
    const id = resolveModelName(name, servedIds());
    const holders = id === undefined ? [] : holdersOf(registry.statuses(nowMs()), id);
    const first = holders[0];
    if (id === undefined || first === undefined) throw ollamaModelNotFound(name);
    let info: ModelInfo | undefined;
    for (const { node } of holders) {
      info = await registry
        .get(node.name)
        ?.modelInfo?.(id, AbortSignal.timeout(MODEL_INFO_TIMEOUT_MS))
        .catch((err: unknown) => {
          request.log.warn({ node: node.name, model: id, err }, "model info unavailable");
          return undefined;
        });
      if (info !== undefined) break;
    }
    return showOf(first.model, info);
  });

  app.post("/api/chat", (request, reply) => {
    const body = parseBody(ollamaChatRequest, request.body);
    const model = modelIdOf(body.model);
    if (isEmptyChat(body)) return answerLoad(model, body.model, "chat");
    const generation = chatToGeneration({ ...body, model }, options.maxTokensLimit);
    return generate(request, reply, generation, body.model, body.stream !== false, chatRendering);
  });

  app.post("/api/generate", (request, reply) => {
    const body = parseBody(ollamaGenerateRequest, request.body);
    const model = modelIdOf(body.model);
    if (isEmptyPrompt(body)) return answerLoad(model, body.model, "generate");
    const generation = generateToGeneration({ ...body, model }, options.maxTokensLimit);
    return generate(request, reply, generation, body.model, body.stream !== false, generateRendering);
  });

  app.post("/api/embed", async (request, reply) => {
    const body = parseBody(ollamaEmbedRequest, request.body);
    const clock = new AnswerClock();
    const answer = await embed(request, reply, embedToWorkload({ ...body, model: modelIdOf(body.model) }), body.model);
    if (answer === undefined) return reply;
    const { load_duration, total_duration } = clock.durations();
    return { model: body.model, embeddings: answer.vectors, total_duration, load_duration, prompt_eval_count: answer.promptTokens };
  });

  app.post("/api/embeddings", async (request, reply) => {
    const body = parseBody(ollamaEmbeddingsRequest, request.body);
    const answer = await embed(request, reply, embeddingsToWorkload({ ...body, model: modelIdOf(body.model) }), body.model);
    if (answer === undefined) return reply;
    return { embedding: answer.vectors[0] ?? [] };
  });

  rejectOtherMethods(app, "/api/tags", ["GET"]);
  rejectOtherMethods(app, "/api/ps", ["GET"]);
  for (const url of ["/api/show", "/api/chat", "/api/generate", "/api/embed", "/api/embeddings"]) rejectOtherMethods(app, url, ["POST"]);

  /**
   * Ollama's empty chat or prompt: "load the model", and with keep_alive 0
   * "unload it". Models are pinned by node configuration, so this only says
   * whether the cluster serves it (docs/adr/0032).
   */
  function answerLoad(model: string, asked: string, route: "chat" | "generate"): unknown {
    if (!servedIds().includes(model)) throw ollamaModelNotFound(asked);
    return loadAnswer(stampOf(asked), route);
  }

  /** A client that hangs up cancels the work wherever it is; the controller says so. */
  function cancelOnHangUp(reply: FastifyReply): AbortController {
    const controller = new AbortController();
    reply.raw.once("close", () => {
      if (!reply.raw.writableFinished) controller.abort(new Error("client disconnected"));
    });
    return controller;
  }

  async function embed(
    request: FastifyRequest,
    reply: FastifyReply,
    workload: ReturnType<typeof embedToWorkload>,
    asked: string,
  ): Promise<{ model: string; vectors: number[][]; promptTokens: number } | undefined> {
    const controller = cancelOnHangUp(reply);
    try {
      const answer = await options.dispatcher.run({
        workload,
        hints: routeHints({}, request.headers),
        ...dispatchHints({}, request.headers, false),
        signal: controller.signal,
      });
      void reply.headers(routeHeaders(answer.decision));
      return { model: answer.decision.model, ...embeddingResultOf(answer.result) };
    } catch (err) {
      if (controller.signal.aborted) {
        reply.hijack();
        return undefined;
      }
      throw inOllamaWords(err, asked);
    }
  }

  async function generate(
    request: FastifyRequest,
    reply: FastifyReply,
    generation: GenerationRequest,
    asked: string,
    stream: boolean,
    rendering: Rendering,
  ): Promise<unknown> {
    const clock = new AnswerClock();
    const controller = cancelOnHangUp(reply);
    const dispatch = {
      workload: generation,
      hints: routeHints({}, request.headers),
      ...dispatchHints({}, request.headers, options.continueOnFailure),
      signal: controller.signal,
      onTryFirstChunk: () => clock.firstChunk(),
    };

    if (!stream) {
      try {
        const answer = await options.dispatcher.run(dispatch);
        void reply.headers(routeHeaders(answer.decision));
        const final = rendering.final(stampOf(answeredName(asked, generation.model, answer.decision.model)), generationResultOf(answer.result), clock.durations(), false);
        return answer.resumed ? { ...final, flotilla: { resumed: true, nodes: answer.nodes } } : final;
      } catch (err) {
        // Nobody is left to answer; keep Fastify from writing to a closed socket.
        if (controller.signal.aborted) return reply.hijack();
        throw inOllamaWords(err, asked);
      }
    }

    const out = new NdjsonStream(reply.raw);
    let stamp = stampOf(asked);
    reply.hijack();
    try {
      const answer = await options.dispatcher.run({
        ...dispatch,
        onAnswering: (decision) => {
          stamp = stampOf(answeredName(asked, generation.model, decision.model));
          out.addHeaders(routeHeaders(decision));
        },
        onChunk: (chunk) => {
          if (chunk.type === "text" && chunk.text !== "") out.send(rendering.chunk({ ...stamp, created_at: new Date(nowMs()).toISOString() }, chunk.text));
        },
      });
      const result = generationResultOf(answer.result);
      // Ollama sends each tool call whole, in a chunk of its own, before the last one.
      const calls = result.toolCalls ?? [];
      if (calls.length > 0 && rendering === chatRendering) out.send(chatChunk(stampOf(stamp.model), messageOf("", calls)));
      const final = rendering.final(stampOf(stamp.model), result, clock.durations(), true);
      out.end(answer.resumed ? { ...final, flotilla: { resumed: true, nodes: answer.nodes } } : final);
    } catch (err) {
      if (controller.signal.aborted) return undefined;
      const failure = ollamaFailure(toFlotillaError(err, request.log), asked);
      if (out.started) out.end(toOllamaErrorBody(failure));
      else sendError(reply, failure);
    }
    return undefined;
  }
}

/** The dispatcher's "unknown model", said as Ollama says it; every other failure as it is. */
function inOllamaWords(err: unknown, asked: string): unknown {
  return err instanceof FlotillaError ? ollamaFailure(err, asked) : err;
}

function ollamaFailure(failure: FlotillaError, asked: string): FlotillaError {
  return failure.code === "model_not_found" ? ollamaModelNotFound(asked) : failure;
}

/** An error answer written by hand, for replies Fastify no longer owns. */
function sendError(reply: FastifyReply, error: FlotillaError): void {
  const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8" };
  if (error.retryAfterS !== undefined) headers["retry-after"] = String(error.retryAfterS);
  reply.raw.writeHead(error.status, headers).end(JSON.stringify(toOllamaErrorBody(error)));
}
