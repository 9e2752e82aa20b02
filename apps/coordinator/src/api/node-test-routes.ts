// POST /cluster/nodes/:name/test — behind `flotilla cluster test`: a tiny
// completion run on one named node, bypassing the router, so a person can see
// that each node really answers and how fast. Admin-only (registered inside
// the admin-protected plugin).
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { FlotillaError, generationResultOf, nodeName, type GenerationRequest, type NodeTestResult } from "@flotilla/protocol";
import type { NodeRegistry } from "../nodes/node-registry.ts";
import { parseBody } from "../gateway/validate.ts";
import { rejectOtherMethods } from "../gateway/method-not-allowed.ts";

const params = z.object({ name: nodeName });
const body = z
  .object({
    /** Default: the first model the node serves. */
    model: z.string().min(1).max(128).optional(),
    maxTokens: z.int().min(1).max(256).default(16),
    timeoutMs: z.int().min(100).max(120_000).default(30_000),
  })
  .strict();

export function registerNodeTestRoutes(app: FastifyInstance, registry: NodeRegistry, nowMs: () => number): void {
  app.post("/cluster/nodes/:name/test", async (request): Promise<NodeTestResult> => {
    const { name } = parseBody(params, request.params);
    const options = parseBody(body, request.body ?? {});
    const node = registry.get(name);
    if (!node) throw new FlotillaError("not_found", `no node is named ${name}`, { param: "name" });
    const served = node.status(nowMs()).models;
    const model = options.model ?? served[0]?.id;
    if (model === undefined) throw new FlotillaError("invalid_request", `node ${name} serves no model`, { param: "name" });
    if (!served.some((m) => m.id === model)) {
      throw new FlotillaError("model_not_found", `node ${name} does not serve ${model}`, { param: "model" });
    }
    const generation: GenerationRequest = {
      model,
      input: { kind: "completion", prompt: "Once upon a time" },
      params: {
        maxTokens: options.maxTokens,
        temperature: 0,
        topP: undefined,
        seed: 1,
        stop: [],
        presencePenalty: undefined,
        frequencyPenalty: undefined,
      },
    };
    const started = performance.now();
    let firstTokenMs: number | null = null;
    const signal = AbortSignal.timeout(options.timeoutMs);
    const result = generationResultOf(await node
      .run(generation, {
        signal,
        onChunk: () => {
          firstTokenMs ??= performance.now() - started;
        },
      })
      .catch((err: unknown) => {
        if (signal.aborted) throw new FlotillaError("backend_error", `node ${name} did not finish within ${options.timeoutMs} ms`);
        throw err;
      }));
    const totalMs = performance.now() - started;
    // Decoding speed: the tokens after the first, over the time after it.
    const decodeMs = totalMs - (firstTokenMs ?? 0);
    const decoded = Math.max(0, result.completionTokens - 1);
    return {
      node: name,
      model,
      firstTokenMs: firstTokenMs === null ? null : round(firstTokenMs),
      totalMs: round(totalMs),
      completionTokens: result.completionTokens,
      tokensPerSecond: decodeMs > 0 && decoded > 0 ? round((decoded * 1000) / decodeMs) : 0,
    };
  });
  rejectOtherMethods(app, "/cluster/nodes/:name/test", ["POST"]);
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
