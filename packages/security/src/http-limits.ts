// Limits on how long a client may take to send a request and how many
// connections one address may hold, for the coordinator's and the agent's
// HTTP servers (docs/adr/0023). Node's own meaning of the two timeouts:
// `headersTimeout` bounds receiving the head, `requestTimeout` receiving the
// whole request, body included; both end when the request is in, so an
// answer that streams for minutes is not cut. Typed on node:http only.
import type { Server } from "node:http";
import type { Socket } from "node:net";
import { addressKey } from "./failure-limiter.ts";

export interface HttpLimits {
  /** Time to receive a request's head (408 and closed past it). */
  headersTimeoutMs: number;
  /** Time to receive the whole request, head and body (408 and closed past it). */
  bodyTimeoutMs: number;
  /** Connections one address (an IPv6 /64) may hold open at once; the next is closed at once. */
  maxConnectionsPerIp: number;
  /**
   * Request bodies being received, all connections together (body-budget.ts):
   * past it a request is refused with 503 and Retry-After before its body is read.
   */
  maxBodyBytesInFlight: number;
}

/**
 * nginx waits 60 s for a head or a body; a LAN client needs far less. Nomad
 * allows 100 connections per client, but one address here is often many
 * users (an Open WebUI or LiteLLM in front of the coordinator streams every
 * user's answer from one address; the coordinator is one address to each
 * agent, with a connection per request in flight or queued), so the bound is
 * 512: still a bound on what one address can hold, not a cap on a busy lab.
 * 32 MiB of bodies in flight is eight of the largest (4 MiB) at once, and
 * thousands of ordinary chat bodies (docs/adr/0033).
 */
export const DEFAULT_HTTP_LIMITS: HttpLimits = { headersTimeoutMs: 10_000, bodyTimeoutMs: 30_000, maxConnectionsPerIp: 512, maxBodyBytesInFlight: 32 * 1024 * 1024 };

/** What Fastify's factory takes to apply the timeouts (its `requestTimeout` and its `http` server options). */
export function serverTimeoutOptions(limits: Pick<HttpLimits, "headersTimeoutMs" | "bodyTimeoutMs">): {
  requestTimeout: number;
  http: { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number };
} {
  // Node checks the timeouts on an interval (30 s by default), so a limit is
  // enforced only to within it: check at a quarter of the shorter limit.
  const checkEveryMs = Math.min(30_000, Math.max(50, Math.floor(Math.min(limits.headersTimeoutMs, limits.bodyTimeoutMs) / 4)));
  return {
    requestTimeout: limits.bodyTimeoutMs,
    http: { headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.bodyTimeoutMs, connectionsCheckingInterval: checkEveryMs },
  };
}

/** The statuses Node's HTTP parser fails a request with before any route sees it. */
export type ClientErrorStatus = 400 | 408 | 431;

/**
 * Fastify's `clientErrorHandler`: a request Node refused before any route saw
 * it (too slow: 408; a head too large: 431; malformed: 400) is answered with
 * `body(status, message)`, the API's own error shape, instead of Fastify's.
 * Nothing is written once a response has begun on the socket.
 */
export function answerClientErrors(body: (status: ClientErrorStatus, message: string) => string) {
  return (err: Error & { code?: string }, socket: Socket): void => {
    if (err.code === "ECONNRESET" || socket.destroyed) return;
    const [status, reason, message]: [ClientErrorStatus, string, string] =
      err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "Request Timeout", "the request was not received in time: send its head and body faster"]
        : err.code === "HPE_HEADER_OVERFLOW"
          ? [431, "Request Header Fields Too Large", "the request head is larger than this server accepts"]
          : [400, "Bad Request", "the request is not valid HTTP"];
    if (socket.writable && socket.bytesWritten === 0) {
      const text = body(status, message);
      socket.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
    }
    socket.destroy(err);
  };
}

/**
 * Closes a new connection at once when its address already holds `max`.
 * Destroyed before anything is read from it, so no request on it can run.
 * `onRefused` is told the address (for a log line).
 */
export function limitConnectionsPerIp(server: Server, max: number, onRefused: (address: string) => void): void {
  const open = new Map<string, number>();
  server.on("connection", (socket: Socket) => {
    const key = addressKey(socket.remoteAddress ?? "unknown");
    const count = open.get(key) ?? 0;
    if (count >= max) {
      socket.destroy();
      onRefused(key);
      return;
    }
    open.set(key, count + 1);
    socket.once("close", () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left <= 0) open.delete(key);
      else open.set(key, left);
    });
  });
}
