// The HTTP side of calling an agentless server: the shared dispatcher (whose
// lookup re-checks the network allowlist), its bearer token, and errors that
// name the node. undici's request() never follows redirects, so a server
// cannot send the coordinator to an address the allowlist would refuse.
//
// Whose fault a refusal is (ADR 0018) is decided here, from the status:
// - 408, 429, 503: the server is busy. Retryable elsewhere, not the node's
//   fault; its Retry-After travels with the error.
// - any other 4xx: the request's fault (vLLM's and Ollama's "context length
//   exceeded", a bad parameter). Passed on to the client as it is, never
//   retried: another node would say the same.
// - 5xx: the node failed. Retryable, and it counts against its circuit.
//
// What a node said is passed on in one case only (ADR 0025): the message of
// the JSON error a 4xx carries, in answer to a client's own request, which is
// the inference server answering that client. Otherwise an error says what
// failed, never what the node answered: a URL may point at an internal server
// that is no inference server at all, and its answer (a login page, an admin
// API's JSON) must not reach whoever can add nodes or read status.
import { FormData, request, type Dispatcher } from "undici";
import { FlotillaError } from "@flotilla/protocol";
import { parseJson } from "./dialect.ts";
import { unreachable } from "../unreachable.ts";

export interface NodeEndpoint {
  name: string;
  /** The server's bearer token. A secret: never logged, never in a status. */
  apiKey: string | undefined;
  dispatcher: Dispatcher;
}

export interface Answer {
  body: Dispatcher.ResponseData["body"];
  /** The media type alone, lower case ("text/event-stream"); "" when none was sent. */
  contentType: string;
}

/** Sends one request; resolves a 200 answer, else throws the FlotillaError its status calls for. */
export async function send(
  endpoint: NodeEndpoint,
  method: "GET" | "POST",
  url: URL,
  body: unknown,
  signal: AbortSignal,
  /** True for a client's own request (a generation, embeddings), whose 4xx message may reach that client; false for health checks. */
  passOnRefusal: boolean,
): Promise<Answer> {
  const headers: Record<string, string> = { accept: "application/json, text/event-stream, application/x-ndjson" };
  if (endpoint.apiKey !== undefined) headers.authorization = `Bearer ${endpoint.apiKey}`;
  // A form (a transcription's upload) sets its own multipart type and boundary.
  if (body !== undefined && !(body instanceof FormData)) headers["content-type"] = "application/json";
  let response: Dispatcher.ResponseData;
  try {
    response = await request(url, {
      method,
      dispatcher: endpoint.dispatcher,
      headers,
      ...(body === undefined ? {} : { body: body instanceof FormData ? body : JSON.stringify(body) }),
      signal,
    });
  } catch (err) {
    if (signal.aborted) throw err;
    throw unreachable(endpoint.name, err);
  }
  if (response.statusCode === 200) return { body: response.body, contentType: mediaTypeOf(response.headers["content-type"]) };
  // Read (and so released) either way; kept only when it may be passed on.
  const said = await readText(response.body, 2_048).then(errorMessageOf, () => undefined);
  const detail = passOnRefusal ? said : undefined;
  throw refusal(endpoint.name, response.statusCode, detail, response.headers["retry-after"]);
}

/**
 * The error for a non-200 answer (see the rules at the top). `detail` is the
 * JSON error message of a 4xx to pass on; busy and failed answers never carry
 * it. Pure.
 */
export function refusal(node: string, status: number, detail: string | undefined, retryAfter: string | string[] | undefined): FlotillaError {
  const said = `node ${node} answered HTTP ${status}`;
  if (status === 408 || status === 429 || status === 503) {
    const retryAfterS = retryAfterSeconds(retryAfter);
    return new FlotillaError("server_busy", said, retryAfterS === undefined ? {} : { retryAfterS });
  }
  if (status >= 400 && status < 500) {
    const message = detail ?? `node ${node} refused the request (HTTP ${status})`;
    return CONTEXT_TOO_LONG.test(message)
      ? new FlotillaError("context_length_exceeded", message)
      : new FlotillaError("rejected_by_node", message, { status });
  }
  return new FlotillaError("backend_error", said);
}

/** How vLLM, llama-server, Ollama and OpenAI word a prompt that does not fit. */
const CONTEXT_TOO_LONG = /context length|context window|maximum context|context size|exceeds the available context|too many tokens/i;

/** Retry-After in seconds (the HTTP-date form is rare from inference servers and ignored), capped at an hour. */
export function retryAfterSeconds(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return undefined;
  return Math.min(3600, Number.parseInt(value, 10));
}

function mediaTypeOf(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return (value ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/**
 * A whole answer's body, up to `maxBytes`: a read that fails is the node
 * being unreachable, unless the caller aborted (its reason is thrown as it is).
 */
export async function readWhole(endpoint: NodeEndpoint, answer: Answer, maxBytes: number, signal: AbortSignal): Promise<Buffer> {
  try {
    return await readBytes(answer.body, maxBytes);
  } catch (err) {
    if (signal.aborted) throw err;
    throw unreachable(endpoint.name, err);
  }
}

/** Reads a body up to `maxBytes`; a longer one is cut there and the rest dropped. */
export async function readText(body: Dispatcher.ResponseData["body"], maxBytes: number): Promise<string> {
  return (await readBytes(body, maxBytes)).toString("utf8");
}

/** The same, as bytes: read `maxBytes + 1` to tell a body at the bound from one past it. */
async function readBytes(body: Dispatcher.ResponseData["body"], maxBytes: number): Promise<Buffer> {
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
  return Buffer.concat(chunks).subarray(0, maxBytes);
}

/**
 * The message of an OpenAI-, vLLM- or Ollama-shaped JSON error body,
 * shortened; undefined for anything else, whose text is never passed on.
 */
export function errorMessageOf(text: string): string | undefined {
  const json = parseJson(text);
  // vLLM: {"object": "error", "message": "...", "code": 400}
  if (json.ok && typeof json.value === "object" && json.value !== null && "message" in json.value && typeof json.value.message === "string") {
    return json.value.message.slice(0, 300);
  }
  if (json.ok && typeof json.value === "object" && json.value !== null && "error" in json.value) {
    const error: unknown = json.value.error;
    if (typeof error === "string") return error.slice(0, 300);
    if (typeof error === "object" && error !== null && "message" in error && typeof error.message === "string") {
      return error.message.slice(0, 300);
    }
  }
  return undefined;
}
