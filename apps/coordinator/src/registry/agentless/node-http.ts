// The HTTP side of calling an agentless server: the shared dispatcher (whose
// lookup re-checks the network allowlist), its bearer token, and errors that
// name the node. undici's request() never follows redirects, so a server
// cannot send the coordinator to an address the allowlist would refuse.
import { request, type Dispatcher } from "undici";
import { FlotillaError } from "@flotilla/protocol";
import { parseJson } from "./dialect.ts";
import { unreachable } from "../unreachable.ts";

export interface NodeEndpoint {
  name: string;
  /** The server's bearer token. A secret: never logged, never in a status. */
  apiKey: string | undefined;
  dispatcher: Dispatcher;
}

/** Sends one request; resolves the body of a 200 answer, else throws a backend_error. */
export async function send(
  endpoint: NodeEndpoint,
  method: "GET" | "POST",
  url: URL,
  body: unknown,
  signal: AbortSignal,
): Promise<Dispatcher.ResponseData["body"]> {
  const headers: Record<string, string> = { accept: "application/json, text/event-stream, application/x-ndjson" };
  if (endpoint.apiKey !== undefined) headers.authorization = `Bearer ${endpoint.apiKey}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let response: Dispatcher.ResponseData;
  try {
    response = await request(url, {
      method,
      dispatcher: endpoint.dispatcher,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal,
    });
  } catch (err) {
    if (signal.aborted) throw err;
    throw unreachable(endpoint.name, err);
  }
  if (response.statusCode === 200) return response.body;
  const detail = await readText(response.body, 2_048).then(errorMessageOf, () => "");
  throw new FlotillaError(
    "backend_error",
    `node ${endpoint.name} answered HTTP ${response.statusCode}${detail === "" ? "" : `: ${detail}`}`,
  );
}

/** Reads a body up to `maxBytes`; a longer one is cut there and the rest dropped. */
export async function readText(body: Dispatcher.ResponseData["body"], maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= maxBytes) break;
    }
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString("utf8");
}

/** The message of an OpenAI- or Ollama-shaped error body, else the text itself, shortened. */
export function errorMessageOf(text: string): string {
  const json = parseJson(text);
  if (json.ok && typeof json.value === "object" && json.value !== null && "error" in json.value) {
    const error: unknown = json.value.error;
    if (typeof error === "string") return error.slice(0, 300);
    if (typeof error === "object" && error !== null && "message" in error && typeof error.message === "string") {
      return error.message.slice(0, 300);
    }
  }
  return text.trim().slice(0, 300);
}
