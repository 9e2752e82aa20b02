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
  // A field this server does not take is named as the field, like any other bad one.
  const path = issue?.code === "unrecognized_keys" && issue.keys[0] !== undefined ? [...issue.path, issue.keys[0]] : (issue?.path ?? []);
  const param = formatParam(path);
  const said = issue?.code === "unrecognized_keys" ? "not a field this server takes" : issue?.message;
  const message = said === undefined ? "invalid request body" : `${param === "" ? "body" : param}: ${said}`;
  throw new FlotillaError("invalid_request", message, { param: param === "" ? null : param });
}
