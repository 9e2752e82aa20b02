import { FlotillaError, formatParam } from "@flotilla/protocol";
import type { z } from "zod";

/** Parses a body with a schema; the first problem becomes a 400 naming its field. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new FlotillaError("invalid_request", "the request body must be a JSON object");
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = issue ? formatParam(issue.path) : "";
  const message = issue ? `${param === "" ? "body" : param}: ${issue.message}` : "invalid request body";
  throw new FlotillaError("invalid_request", message, { param: param === "" ? null : param });
}
