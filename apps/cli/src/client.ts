// The CLI is a thin client of the coordinator's cluster API. It finds the
// admin key the same way the server does: FLOTILLA_ADMIN_KEY, else the key
// file in the data directory. Every answer is parsed with its schema from
// @flotilla/protocol (cluster-api.ts) before a command reads it: a
// coordinator of another version gets one clear line, never a TypeError
// from a field that is not there.
import type { z } from "zod";
import { belongsTo, readAdminKey, readAdminKeyOrigins } from "@flotilla/coordinator/admin-key";
import { errorAnswer, formatParam } from "@flotilla/protocol";

export interface ClientTarget {
  url: string;
  dataDir: string;
}

export class CliError extends Error {
  override name = "CliError";
}

type Method = "GET" | "POST" | "DELETE";

/**
 * Calls the cluster API with the admin key and returns its answer as the
 * schema parses it. A non-2xx answer, an unreachable coordinator and an
 * answer the schema refuses are all a CliError.
 */
export async function adminRequest<S extends z.ZodType>(
  target: ClientTarget,
  env: NodeJS.ProcessEnv,
  method: Method,
  route: string,
  schema: S,
  body?: unknown,
): Promise<z.output<S>> {
  return (await adminAnswer(target, env, method, route, schema, body)).data;
}

/**
 * The same, with the answer's JSON as it came as well: for `--json` output,
 * which shows what the coordinator said (fields a newer coordinator added
 * included, which parsing drops) once the schema accepted it.
 */
export async function adminAnswer<S extends z.ZodType>(
  target: ClientTarget,
  env: NodeJS.ProcessEnv,
  method: Method,
  route: string,
  schema: S,
  body?: unknown,
): Promise<{ data: z.output<S>; json: unknown }> {
  const json = await send(target, env, method, route, body);
  const parsed = schema.safeParse(json);
  if (parsed.success) return { data: parsed.data, json };
  throw new CliError(`the coordinator answered something this CLI does not understand: ${describeIssue(parsed.error)} — is it a different version?`);
}

/** The first problem, named by its path the way the server names a bad param (`nodes[0].health`). */
function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "its answer";
  const where = formatParam(issue.path);
  return `${where === "" ? "the answer" : where}: ${issue.message}`;
}

/** The answer's JSON (its text when it is not JSON; undefined when empty), or a CliError for a failure. */
async function send(target: ClientTarget, env: NodeJS.ProcessEnv, method: Method, route: string, body: unknown): Promise<unknown> {
  const key = await adminKeyFor(target, env);
  const url = new URL(route, target.url);
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      redirect: "error",
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new CliError(`cannot reach the coordinator at ${target.url} (${why}); is \`flotilla up\` running?`);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (err) {
    // The connection broke after the head: as good as no answer.
    throw new CliError(`the coordinator at ${target.url} stopped answering (${err instanceof Error ? err.message : String(err)})`);
  }
  const parsed = text === "" ? undefined : safeJson(text);
  if (!response.ok) throw refusal(response.status, parsed, text);
  return parsed;
}

/**
 * The admin key in the data directory, for the coordinator it belongs to
 * only (ADR 0025): to any other URL it is never sent. FLOTILLA_ADMIN_KEY is
 * not bound so: setting it, with a URL, is how a remote coordinator is run.
 */
/** FLOTILLA_ADMIN_KEY, else the data directory's key, for its own coordinator only. */
export async function adminKeyFor(target: ClientTarget, env: NodeJS.ProcessEnv): Promise<string> {
  if (env.FLOTILLA_ADMIN_KEY) return env.FLOTILLA_ADMIN_KEY;
  return localAdminKey(target);
}

async function localAdminKey(target: ClientTarget): Promise<string> {
  const key = await readAdminKey(target.dataDir);
  if (!key) throw new CliError(`no admin key: set FLOTILLA_ADMIN_KEY or run on the coordinator's machine (looked in ${target.dataDir})`);
  const origins = await readAdminKeyOrigins(target.dataDir);
  if (!belongsTo(target.url, origins)) {
    const known = origins.length === 0 ? "no coordinator has recorded where it listens" : `it belongs to ${origins.join(", ")}`;
    throw new CliError(
      `not sending the admin key in ${target.dataDir} to ${target.url}: ${known}. ` +
        "Use the coordinator's own URL, or set FLOTILLA_ADMIN_KEY to send a key there",
    );
  }
  return key;
}

/** A coordinator's error answer, in its own words when it sent the API's error shape. */
export function refusal(status: number, parsed: unknown, text: string): CliError {
  const error = errorAnswer.safeParse(parsed);
  return new CliError(`the coordinator answered ${status}: ${error.success ? error.data.error.message : text}`);
}

/** JSON when it is, else the text itself (an error page, a proxy's answer). */
export function safeJson(text: string): unknown {
  try {
    const value: unknown = JSON.parse(text);
    return value;
  } catch {
    return text;
  }
}
