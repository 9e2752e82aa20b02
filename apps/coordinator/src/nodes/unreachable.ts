// The error for a node that could not be called, shared by every kind of node.
import { FlotillaError } from "@flotilla/protocol";

export function unreachable(name: string, err: unknown): FlotillaError {
  const detail = err instanceof Error ? describe(err) : String(err);
  return new FlotillaError("backend_error", `node ${name} could not be reached: ${detail}`, { cause: err });
}

// Connection errors from undici carry the useful part (ECONNREFUSED) in `code`
// or in the cause, not always in the message.
function describe(err: Error): string {
  const code = (err as { code?: unknown }).code ?? (err.cause as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
}
