// flotilla's tools for MCP hosts (Claude Code, any agent that speaks the
// Model Context Protocol). One McpServer is built per HTTP request (the
// SDK's stateless pattern, mcp-routes.ts); building one costs four tool
// registrations, no I/O. Each tool reads the same state or runs through the
// same dispatcher as the HTTP route it mirrors:
//   cluster_status ~ /cluster/status   list_models ~ /v1/models
//   chat ~ /v1/chat/completions        explain_route ~ /cluster/route
// Jobs (submit_job, job_status) come when the job API exists.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { FastifyBaseLogger } from "fastify";
import { z } from "zod";
import { chatCompletionRequest, FLOTILLA_VERSION, generationResultOf, routeExplanation } from "@flotilla/protocol";
import type { NodeRegistry } from "../nodes/node-registry.ts";
import type { Router } from "../router/router.ts";
import type { GenerationDispatcher } from "../dispatch/types.ts";
import { chatToGeneration, usageOf } from "../gateway/translate.ts";
import { parseBody } from "../gateway/validate.ts";
import { dispatchHints, routeHints } from "../gateway/route-hints.ts";
import { toFlotillaError } from "../gateway/errors.ts";
import { chatToolInput, toChatCompletionBody } from "./chat-input.ts";
import { clusterView, clusterViewOf, modelsView, modelsViewOf } from "./cluster-view.ts";
import { explanationOf } from "../router/explanation.ts";
import { explanationText } from "./route-explanation.ts";
import { cancelled, failed, succeeded } from "./tool-results.ts";

export interface McpToolsOptions {
  registry: NodeRegistry;
  router: Router;
  dispatcher: GenerationDispatcher;
  /** The coordinator's busy queue, as /cluster/status shows it. */
  queue: () => { depth: number; maxDepth: number };
  /** routing.continueOnFailure from the cluster file. */
  continueOnFailure: boolean;
  /** The most tokens one answer may have (ADR 0017). */
  maxTokensLimit: number;
  nowMs: () => number;
  log: FastifyBaseLogger;
}

const count = z.int().min(0);
const chatAnswer = z.object({
  text: z.string(),
  /** The model that answered (an alias or "auto" resolved). */
  model: z.string(),
  node: z.string(),
  tier: z.int().min(0).max(2),
  finishReason: z.enum(["stop", "length", "tool_calls"]),
  usage: z.object({ prompt_tokens: count, completion_tokens: count, total_tokens: count }),
  /** Nodes that contributed text, in order (more than one only when the answer was resumed). */
  nodes: z.array(z.string()),
});
type ChatAnswer = z.infer<typeof chatAnswer>;

export function buildMcpServer(options: McpToolsOptions): McpServer {
  const server = new McpServer({ name: "flotilla", version: FLOTILLA_VERSION });
  const readOnly = { readOnlyHint: true, openWorldHint: false } as const;

  /**
   * A failure of flotilla's (not of the input, which the SDK checks first)
   * becomes an isError result. A call its host cancelled is no failure to log:
   * nobody reads its answer.
   */
  const guarded = async (run: () => Promise<CallToolResult> | CallToolResult, signal?: AbortSignal): Promise<CallToolResult> => {
    try {
      return await run();
    } catch (err) {
      if (signal?.aborted === true) return cancelled();
      return failed(toFlotillaError(err, options.log));
    }
  };

  server.registerTool(
    "cluster_status",
    {
      title: "Cluster status",
      description: "The nodes of the flotilla cluster: state, tier (0 fast/small, 1 medium, 2 powerful), pool, models served and load; totals and the busy queue.",
      outputSchema: clusterView,
      annotations: readOnly,
    },
    () => guarded(() => succeeded(clusterViewOf(options.registry.statuses(options.nowMs()), options.queue()))),
  );

  server.registerTool(
    "list_models",
    {
      title: "List models",
      description: "The models the cluster serves now, with their context size, what they can do (chat, embed, tools, json) and the nodes serving them.",
      outputSchema: modelsView,
      annotations: readOnly,
    },
    () => guarded(() => succeeded(modelsViewOf(options.registry.statuses(options.nowMs())))),
  );

  server.registerTool(
    "chat",
    {
      title: "Chat",
      description:
        "Ask a model on the cluster. Routed like /v1/chat/completions: the router picks the node by model, tier, load and the task; prefer_tier asks for a tier. Returns the answer, which node and model answered, and the token usage.",
      inputSchema: chatToolInput,
      outputSchema: chatAnswer,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    (input, extra) =>
      guarded(async () => {
        const body = parseBody(chatCompletionRequest, toChatCompletionBody(input));
        const handling = dispatchHints(body, {}, options.continueOnFailure);
        const answer = await options.dispatcher.run({
          workload: chatToGeneration(body, options.maxTokensLimit),
          hints: routeHints(body, {}),
          priority: handling.priority,
          continueOnFailure: handling.continueOnFailure,
          // Aborted when the host cancels the call or its HTTP request closes: the work stops upstream.
          signal: extra.signal,
        });
        const result = generationResultOf(answer.result);
        const structured: ChatAnswer = {
          text: result.text,
          model: answer.decision.model,
          node: answer.decision.node,
          tier: answer.decision.tier,
          finishReason: result.finishReason,
          usage: usageOf(result),
          nodes: answer.nodes,
        };
        const usage = structured.usage;
        return {
          content: [
            { type: "text", text: result.text },
            {
              type: "text",
              text: `answered by ${structured.node} (tier ${structured.tier}), model ${structured.model}; tokens: ${usage.prompt_tokens} prompt + ${usage.completion_tokens} completion = ${usage.total_tokens}; finish: ${structured.finishReason}`,
            },
          ],
          structuredContent: structured,
        };
      }, extra.signal),
  );

  server.registerTool(
    "explain_route",
    {
      title: "Explain route",
      description: "Where a chat request would go and why, without running it: the router's decision in words, and every node it weighed or skipped.",
      inputSchema: chatToolInput,
      outputSchema: routeExplanation,
      annotations: readOnly,
    },
    (input) =>
      guarded(async () => {
        const body = parseBody(chatCompletionRequest, toChatCompletionBody(input));
        const explanation = explanationOf(await options.router.explain(chatToGeneration(body, options.maxTokensLimit), routeHints(body, {})));
        return succeeded(explanation, explanationText(explanation));
      }),
  );

  return server;
}
