// One catalogue of errors with stable codes. Each entry fixes the HTTP status,
// the OpenAI error `type`, whether retrying elsewhere can help, and whether
// the failure is the node's fault (ADR 0018), so that the dispatcher reads
// `err.retryable` and `err.nodeFault` instead of parsing messages or status
// codes. The mapping to the OpenAI body happens once, at the gateway's edge.

export type OpenAIErrorType =
  | "invalid_request_error"
  | "authentication_error"
  /** OpenAI's own type for a 429 on request rate (docs/adr/0022). */
  | "requests"
  | "server_error";

interface CatalogueEntry {
  readonly status: number;
  readonly type: OpenAIErrorType;
  /** Retrying on another node may succeed. */
  readonly retryable: boolean;
  /** The node failed (counts against its circuit); false: the request or the cluster's load did. */
  readonly nodeFault: boolean;
}

const request = { type: "invalid_request_error", retryable: false, nodeFault: false } as const;

export const errorCatalogue = {
  invalid_json: { status: 400, ...request },
  invalid_request: { status: 400, ...request },
  unsupported_parameter: { status: 400, ...request },
  context_length_exceeded: { status: 400, ...request },
  /** The model exists but does not do what was asked (embeddings from a chat-only model). */
  model_not_capable: { status: 400, ...request },
  invalid_api_key: { status: 401, type: "authentication_error", retryable: false, nodeFault: false },
  model_not_found: { status: 404, ...request },
  not_found: { status: 404, ...request },
  /** The name or resource is already taken (a second node with the same name). */
  conflict: { status: 409, ...request },
  method_not_allowed: { status: 405, ...request },
  payload_too_large: { status: 413, ...request },
  /** The client did not send its request's head or body within the server's limit (docs/adr/0023). */
  request_timeout: { status: 408, ...request },
  /** The request's head is larger than the server accepts. */
  headers_too_large: { status: 431, ...request },
  unsupported_media_type: { status: 415, ...request },
  /** Too many failed authentications from one address: wait `Retry-After` (docs/adr/0022). OpenAI's code for a 429. */
  rate_limit_exceeded: { status: 429, type: "requests", retryable: false, nodeFault: false },
  /** The job queue is full, for the key or for everyone: wait `Retry-After` and submit again (issue 12). */
  job_queue_full: { status: 429, type: "requests", retryable: false, nodeFault: false },
  /** A node (or an agentless server) refused the request as malformed: its 4xx, passed on as it was. */
  rejected_by_node: { status: 400, ...request },
  /** Every slot is taken and the busy queue is full, or a node said so (its 408, 429 or 503). */
  server_busy: { status: 503, type: "server_error", retryable: true, nodeFault: false },
  no_backend: { status: 503, type: "server_error", retryable: true, nodeFault: false },
  backend_error: { status: 502, type: "server_error", retryable: true, nodeFault: true },
  /** The deadline the client set (`timeout` of /cluster/execute) passed before the answer was complete. */
  timeout: { status: 504, type: "server_error", retryable: false, nodeFault: false },
  internal_error: { status: 500, type: "server_error", retryable: false, nodeFault: false },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof errorCatalogue;

export interface FlotillaErrorOptions {
  /** The request field at fault, in OpenAI's notation (`messages[0].role`). */
  readonly param?: string | null;
  /** Seconds a client should wait before retrying; sent as `Retry-After`. */
  readonly retryAfterS?: number;
  /**
   * Only for `rejected_by_node`: the node's own 4xx status, passed on as it
   * was (a 422 stays a 422). Anything outside 400–499 is ignored.
   */
  readonly status?: number;
  readonly cause?: unknown;
}

export class FlotillaError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: OpenAIErrorType;
  readonly retryable: boolean;
  readonly nodeFault: boolean;
  readonly param: string | null;
  readonly retryAfterS: number | undefined;

  constructor(code: ErrorCode, message: string, options: FlotillaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "FlotillaError";
    const entry: CatalogueEntry = errorCatalogue[code];
    this.code = code;
    const passedOn = code === "rejected_by_node" && options.status !== undefined && options.status >= 400 && options.status < 500;
    this.status = passedOn ? (options.status ?? entry.status) : entry.status;
    this.type = entry.type;
    this.retryable = entry.retryable;
    this.nodeFault = entry.nodeFault;
    this.param = options.param ?? null;
    this.retryAfterS = options.retryAfterS;
  }
}

/** OpenAI's error body: what every `/v1` client already knows how to read. */
export interface OpenAIErrorBody {
  error: { message: string; type: OpenAIErrorType; param: string | null; code: ErrorCode };
}

export function toOpenAIErrorBody(err: FlotillaError): OpenAIErrorBody {
  return { error: { message: err.message, type: err.type, param: err.param, code: err.code } };
}

/** The body for a request Node's HTTP parser refused before any route saw it: 408, 431, else 400. */
export function clientErrorBody(status: number, message: string): string {
  const code: ErrorCode = status === 408 ? "request_timeout" : status === 431 ? "headers_too_large" : "invalid_request";
  return JSON.stringify(toOpenAIErrorBody(new FlotillaError(code, message)));
}

/**
 * A request refused because the server is receiving as many bodies as its
 * budget holds (docs/adr/0033): busy, not the client's fault; it may retry.
 */
export function tooManyBodies(): FlotillaError {
  return new FlotillaError("server_busy", "the server is receiving as many request bodies as it holds at once: retry shortly", { retryAfterS: 1 });
}
