// One catalogue of errors with stable codes. Each entry fixes the HTTP status,
// the OpenAI error `type`, and whether retrying elsewhere can help, so that
// callers read `err.retryable` instead of parsing messages. The mapping to the
// OpenAI body happens once, at the gateway's edge.

export type OpenAIErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "server_error";

interface CatalogueEntry {
  readonly status: number;
  readonly type: OpenAIErrorType;
  readonly retryable: boolean;
}

export const errorCatalogue = {
  invalid_json: { status: 400, type: "invalid_request_error", retryable: false },
  invalid_request: { status: 400, type: "invalid_request_error", retryable: false },
  unsupported_parameter: { status: 400, type: "invalid_request_error", retryable: false },
  context_length_exceeded: { status: 400, type: "invalid_request_error", retryable: false },
  invalid_api_key: { status: 401, type: "authentication_error", retryable: false },
  model_not_found: { status: 404, type: "invalid_request_error", retryable: false },
  not_found: { status: 404, type: "invalid_request_error", retryable: false },
  /** The name or resource is already taken (a second node with the same name). */
  conflict: { status: 409, type: "invalid_request_error", retryable: false },
  method_not_allowed: { status: 405, type: "invalid_request_error", retryable: false },
  payload_too_large: { status: 413, type: "invalid_request_error", retryable: false },
  unsupported_media_type: { status: 415, type: "invalid_request_error", retryable: false },
  server_busy: { status: 503, type: "server_error", retryable: true },
  no_backend: { status: 503, type: "server_error", retryable: true },
  backend_error: { status: 502, type: "server_error", retryable: true },
  /** The deadline the client set (`timeout` of /cluster/execute) passed before the answer was complete. */
  timeout: { status: 504, type: "server_error", retryable: true },
  internal_error: { status: 500, type: "server_error", retryable: false },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof errorCatalogue;

export interface FlotillaErrorOptions {
  /** The request field at fault, in OpenAI's notation (`messages[0].role`). */
  readonly param?: string | null;
  /** Seconds a client should wait before retrying; sent as `Retry-After`. */
  readonly retryAfterS?: number;
  readonly cause?: unknown;
}

export class FlotillaError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: OpenAIErrorType;
  readonly retryable: boolean;
  readonly param: string | null;
  readonly retryAfterS: number | undefined;

  constructor(code: ErrorCode, message: string, options: FlotillaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "FlotillaError";
    const entry: CatalogueEntry = errorCatalogue[code];
    this.code = code;
    this.status = entry.status;
    this.type = entry.type;
    this.retryable = entry.retryable;
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
