// How the coordinator speaks to an agentless server, one dialect per kind.
// Everything here is pure: building URLs and bodies, reading the health
// answer and each streamed event. The HTTP calls live in ../agentless-node.ts
// and ../../nodes/agentless/agentless-prober.ts.
import { formatParam, type EmbeddingRequest, type EmbeddingResult, type FinishReason, type GenerationRequest, type ModelDetails, type ToolSpec } from "@flotilla/protocol";

export type AgentlessKind = "openai" | "ollama";

/** A model as the server's own list reports it. */
export interface ReportedModel {
  id: string;
  /** Only some servers say (vLLM's max_model_len). */
  contextSize?: number;
  /** What the file is, where the server says (Ollama's /api/tags): shown by flotilla's own /api/tags. */
  details?: ModelDetails;
}

/**
 * A piece of a tool call: OpenAI streams numbered pieces (the first with id
 * and name); Ollama sends each call whole, unnumbered (the next call).
 */
export interface ToolCallPiece {
  index?: number;
  id?: string;
  name?: string;
  argumentsDelta: string;
}

/** What one streamed event says, in flotilla's terms. */
export interface StreamUpdate {
  /** "" when the event carries no text. */
  text: string;
  toolCalls?: ToolCallPiece[];
  finishReason?: FinishReason;
  usage?: { promptTokens: number; completionTokens: number };
  /** The server says the answer is complete. */
  done: boolean;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export interface Dialect {
  /** Where the health check GETs the list of models. */
  healthUrl(base: string): URL;
  parseModels(body: unknown): Parsed<ReportedModel[]>;
  generation(base: string, request: GenerationRequest): { url: URL; body: unknown };
  /** openai streams server-sent events, ollama newline-delimited JSON. */
  framing: "sse" | "ndjson";
  /**
   * One event's payload (an SSE `data` value or an NDJSON line), or the
   * whole body of a server that answered a stream request with one JSON
   * completion (some proxies and older servers do): read the same way.
   */
  parseEvent(payload: string): Parsed<StreamUpdate>;
  embeddings(base: string, request: EmbeddingRequest): { url: URL; body: unknown };
  parseEmbeddings(body: unknown): Parsed<EmbeddingResult>;
}

/**
 * `path` under the base URL, which may carry a path prefix of its own
 * (`http://host/ollama`): the prefix is kept, its trailing slashes dropped,
 * and any query or fragment of the base is not sent.
 */
export function joinUrl(base: string, path: string): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
  url.search = "";
  url.hash = "";
  return url;
}

/** The first problem zod found, as `field: message`, for a node's error line. */
export function firstIssue(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const issue = issues[0];
  if (!issue) return "unexpected body";
  const where = formatParam(issue.path);
  return where === "" ? issue.message : `${where}: ${issue.message}`;
}

export function parseJson(text: string): Parsed<unknown> {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    // Never the text itself: it may be an internal server's page (ADR 0025).
    return { ok: false, error: `not JSON (${text.length} characters)` };
  }
}

/** Servers have more reasons to stop than OpenAI's; a length cut-off and tool calls are told apart, the rest is a stop. */
export function finishReasonOf(reason: string): FinishReason {
  return reason === "length" || reason === "tool_calls" ? reason : "stop";
}

/** What the model may call, as both OpenAI and Ollama take it. */
export function functionTools(tools: readonly ToolSpec[]): unknown[] {
  return tools.map((t) => ({ type: "function", function: { name: t.name, description: t.description, parameters: t.parameters ?? { type: "object" } } }));
}
