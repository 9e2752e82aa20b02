// POST /mcp: the Model Context Protocol over Streamable HTTP, stateless.
// Each request gets its own McpServer and transport (the SDK's documented
// stateless pattern): no session id, nothing kept between requests, so any
// coordinator behind one address can answer any request, and a host needs
// no more than the URL and its client key (checked by the caller's
// onRequest hook, as on /v1). Answers are JSON, not an SSE stream: every
// tool answers once, and JSON is what curl and proxies handle best.
//
// GET (the server-to-client stream) and DELETE (ending a session) mean
// nothing without sessions: 405, in JSON-RPC's shape as the SDK's examples
// answer, with the Allow header HTTP asks for.
import type { FastifyInstance } from "fastify";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { toFlotillaError } from "../gateway/errors.ts";
import { buildMcpServer, type McpToolsOptions } from "./mcp-server.ts";

export type McpRoutesOptions = Omit<McpToolsOptions, "log">;

/** JSON-RPC's "server error" range; the SDK's examples answer 405 with this code. */
const METHOD_NOT_ALLOWED_RPC = -32_000;
const PARSE_ERROR_RPC = -32_700;
const INTERNAL_ERROR_RPC = -32_603;
/** Fastify's errors for a body it could not read as JSON, or would not read at all. */
const BODY_ERRORS: ReadonlySet<unknown> = new Set(["FST_ERR_CTP_INVALID_JSON_BODY", "FST_ERR_CTP_EMPTY_JSON_BODY", "FST_ERR_CTP_BODY_TOO_LARGE"]);

function isBodyError(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const { code, statusCode } = err as { code?: unknown; statusCode?: unknown };
  return BODY_ERRORS.has(code) || (err instanceof SyntaxError && statusCode === 400);
}

const rpcError = (code: number, message: string) => JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null });

export function registerMcpRoutes(app: FastifyInstance, options: McpRoutesOptions): void {
  // A body that is not JSON is a JSON-RPC parse error, as the SDK itself
  // answers one, with the HTTP status the gateway gives it. Every other
  // error (a missing key above all) goes on to the app's handler, in
  // OpenAI's shape like every 401 of this coordinator.
  app.setErrorHandler((err, request, reply) => {
    if (!isBodyError(err)) throw err;
    const failure = toFlotillaError(err, request.log);
    return reply.code(failure.status).header("content-type", "application/json").send(rpcError(PARSE_ERROR_RPC, `Parse error: ${failure.message}`));
  });
  app.post("/mcp", async (request, reply) => {
    const server = buildMcpServer({ ...options, log: request.log });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    // Closing the server aborts its running tool calls (their extra.signal):
    // a host that hangs up cancels the work upstream, as on /v1.
    reply.raw.once("close", () => {
      void transport.close();
      void server.close();
    });
    // The transport writes the answer itself; Fastify must not write a second one.
    reply.hijack();
    try {
      await server.connect(transport);
      // Fastify has read and parsed the body already: the transport takes it as given.
      await transport.handleRequest(request.raw, reply.raw, request.body);
    } catch (err) {
      request.log.error({ err }, "mcp request failed");
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { "content-type": "application/json" }).end(rpcError(INTERNAL_ERROR_RPC, "Internal server error"));
      }
    }
  });

  app.route({
    method: ["GET", "DELETE", "PUT", "PATCH"],
    url: "/mcp",
    handler: (request, reply) =>
      reply
        .code(405)
        .header("allow", "POST")
        .header("content-type", "application/json")
        .send(rpcError(METHOD_NOT_ALLOWED_RPC, `Method not allowed: ${request.method} on /mcp; this server is stateless and answers POST only`)),
  });
}
