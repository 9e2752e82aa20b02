// Every error leaves the gateway through here, in OpenAI's error shape. Known
// framework errors are mapped to catalogue codes; anything unexpected is a 500
// whose details go to the log, not to the client.
import { FlotillaError } from "@flotilla/protocol";
import type { FastifyBaseLogger } from "fastify";

interface FrameworkError {
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
}

export function toFlotillaError(err: unknown, log: FastifyBaseLogger): FlotillaError {
  if (err instanceof FlotillaError) return err;
  const e = (typeof err === "object" && err !== null ? err : {}) as FrameworkError;
  switch (e.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new FlotillaError("payload_too_large", "the request body is larger than this server accepts");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new FlotillaError("unsupported_media_type", "send the request body as application/json");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new FlotillaError("invalid_json", "the request body is empty; send a JSON object");
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return new FlotillaError("invalid_json", "the request body is not valid JSON");
    default:
      break;
  }
  if (err instanceof SyntaxError && e.statusCode === 400) {
    return new FlotillaError("invalid_json", `the request body is not valid JSON: ${err.message}`);
  }
  if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    return new FlotillaError("invalid_request", typeof e.message === "string" ? e.message : "bad request");
  }
  log.error({ err }, "unexpected error");
  return new FlotillaError("internal_error", "the server failed to handle this request");
}
