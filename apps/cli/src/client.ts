// The CLI is a thin client of the coordinator's cluster API. It finds the
// admin key the same way the server does: FLOTILLA_ADMIN_KEY, else the key
// file in the data directory.
import { readAdminKey } from "@flotilla/coordinator/admin-key";

export interface ClientTarget {
  url: string;
  dataDir: string;
}

export class CliError extends Error {
  override name = "CliError";
}

export async function adminRequest(
  target: ClientTarget,
  env: NodeJS.ProcessEnv,
  method: "GET" | "POST" | "DELETE",
  route: string,
  body?: unknown,
): Promise<unknown> {
  const key = env.FLOTILLA_ADMIN_KEY || (await readAdminKey(target.dataDir));
  if (!key) {
    throw new CliError(`no admin key: set FLOTILLA_ADMIN_KEY or run on the coordinator's machine (looked in ${target.dataDir})`);
  }
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
    throw new CliError(`cannot reach the coordinator at ${target.url} (${(err as Error).message}); is \`flotilla up\` running?`);
  }
  const text = await response.text();
  const parsed: unknown = text === "" ? undefined : safeJson(text);
  if (!response.ok) {
    const message = (parsed as { error?: { message?: unknown } } | undefined)?.error?.message;
    throw new CliError(`the coordinator answered ${response.status}: ${typeof message === "string" ? message : text}`);
  }
  return parsed;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
