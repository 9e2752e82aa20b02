// Why a download failed, as a person reads it: fetch's own error says only
// "fetch failed", the reason (a refused connection, an unknown host) is its cause.

/** The innermost reason of an error chain, with its code (ECONNREFUSED, ENOTFOUND) when it has one. */
export function causeOf(err: unknown): string {
  let inner = err;
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
  if (!(inner instanceof Error)) return String(inner);
  const code = (inner as Error & { code?: unknown }).code;
  return typeof code === "string" && !inner.message.includes(code) ? `${inner.message} (${code})` : inner.message;
}
