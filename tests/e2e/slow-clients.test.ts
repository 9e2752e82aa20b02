// Slow and hostile clients (docs/adr/0022, 0023): a head or a body sent
// slowly is answered 408 and closed once its limit passes; an address past
// its connection limit has the next connection closed at once; an address
// that keeps failing authentication gets 429 + Retry-After, logged without
// the secret; and an answer that streams for longer than the body limit is
// not cut. Raw sockets (node:net) against a real `flotilla coordinator`
// process and a real agent HTTP server on loopback, with short limits so
// that the test is quick; each waits for the socket's 'close', never a sleep.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { Agent, buildAgentServer } from "@flotilla/agent";
import type { AgentLoad, RunOptions, Workload, WorkloadHost, WorkloadResult } from "@flotilla/protocol";
import { hashSecret } from "@flotilla/security";
import { startFlotilla, type FlotillaProcess } from "@flotilla/testkit";

const LIMITS = { headersTimeoutMs: 500, bodyTimeoutMs: 1_000, maxConnectionsPerIp: 4 };
/** Two bodies at the limit fit in flight at once, a third does not (docs/adr/0033). */
const BODY_LIMIT = 1_048_576;
const BODIES = { bodyLimitBytes: BODY_LIMIT, maxBodyBytesInFlight: 2 * BODY_LIMIT };
const FAILURES = { maxFailures: 3, windowMs: 600_000 };
/** A hang (no limit) fails here rather than holding the run: far above every limit above. */
const HANG_MS = 20_000;

interface Raw {
  socket: Socket;
  /** Everything received so far. */
  received(): string;
  /** Resolves with everything received once the server has closed the connection. */
  closed: Promise<string>;
  /** Resolves once what was received satisfies `done`. */
  until(done: (received: string) => boolean): Promise<string>;
}

async function rawConnection(url: string): Promise<Raw> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let received = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => (received += chunk));
  // A reset is one way the server closes; 'close' follows it.
  socket.on("error", () => {});
  const closed = new Promise<string>((resolve) => socket.once("close", () => resolve(received)));
  await once(socket, "connect");
  return {
    socket,
    received: () => received,
    closed,
    until: (done) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (done(received)) {
            socket.off("data", check);
            resolve(received);
          }
        };
        socket.on("data", check);
        void closed.then(() => (done(received) ? resolve(received) : reject(new Error(`closed before the answer was complete: ${received}`))));
        check();
      }),
  };
}

/** Writes `text` a character at a time until the connection closes: activity that an idle timeout would never catch. */
function dribble(raw: Raw, text: string, everyMs: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (i < text.length && !raw.socket.destroyed) raw.socket.write(text[i++] ?? "");
  }, everyMs);
  void raw.closed.then(() => clearInterval(timer));
}

/** The 408 Node's limit gives, with the API's own error body. */
function assertTimedOut(received: string): void {
  assert.match(received, /^HTTP\/1\.1 408 /);
  const body = JSON.parse(received.slice(received.indexOf("\r\n\r\n") + 4)) as { error: Record<string, unknown> };
  assert.deepEqual(Object.keys(body.error).sort(), ["code", "message", "param", "type"]);
  assert.equal(body.error.code, "request_timeout");
  assert.equal(body.error.type, "invalid_request_error");
}

const completeHttpResponse = (received: string) => {
  const end = received.indexOf("\r\n\r\n");
  const length = /content-length: (\d+)/i.exec(received)?.[1];
  return end >= 0 && length !== undefined && received.length >= end + 4 + Number(length);
};

describe("slow clients and failed authentication: a real coordinator process", { timeout: HANG_MS * 3 }, () => {
  let dir: string;
  let flotilla: FlotillaProcess;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "flotilla-slow-"));
    const config = path.join(dir, "limits.json");
    await writeFile(config, JSON.stringify({ ...LIMITS, ...BODIES, authFailureLimit: FAILURES.maxFailures, authFailureWindowMs: FAILURES.windowMs }));
    flotilla = await startFlotilla({ command: "coordinator", args: ["--config", config, "--discovery", "explicit"] });
  });

  after(async () => {
    await flotilla.stop();
    await rm(dir, { recursive: true, force: true });
  });

  // First: nothing else holds a connection to the process yet.
  test("past maxConnectionsPerIp the next connection is closed at once, unread; a freed one can be used again", { timeout: HANG_MS }, async () => {
    const held: Raw[] = [];
    for (let i = 0; i < LIMITS.maxConnectionsPerIp; i++) {
      const raw = await rawConnection(flotilla.url);
      raw.socket.write("GET /healthz HTTP/1.1\r\nHost: flotilla\r\n\r\n");
      // Answered and kept alive: held open without any limit running out.
      await raw.until(completeHttpResponse);
      held.push(raw);
    }
    const refused = await rawConnection(flotilla.url);
    refused.socket.write("GET /healthz HTTP/1.1\r\nHost: flotilla\r\n\r\n");
    assert.equal(await refused.closed, "", "the connection over the limit is closed without an answer");
    for (const raw of held) assert.equal(raw.socket.destroyed, false, "the connections within the limit stay open");

    const first = held.shift();
    first?.socket.end();
    await first?.closed;
    // The server counts the connection as gone when its side closes, which
    // may come a moment after ours: try again until it has.
    let answer = "";
    for (let attempt = 0; attempt < 50 && !answer.startsWith("HTTP/1.1 200"); attempt++) {
      const again = await rawConnection(flotilla.url);
      again.socket.write("GET /healthz HTTP/1.1\r\nHost: flotilla\r\nConnection: close\r\n\r\n");
      answer = await again.closed;
    }
    assert.match(answer, /^HTTP\/1\.1 200/);
    for (const raw of held) {
      raw.socket.end();
      await raw.closed;
    }
  });

  test("past maxBodyBytesInFlight a request is refused at once, 503 with Retry-After, before its body is sent; a finished body frees its share", { timeout: HANG_MS }, async () => {
    const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: flotilla\r\nContent-Type: application/json\r\nContent-Length: ${BODY_LIMIT}\r\n\r\n`;
    const started = await Promise.all([0, 1, 2].map(() => rawConnection(flotilla.url)));
    for (const raw of started) raw.socket.write(`${head}{"model": "`);
    // Two bodies fit; whichever head came last is refused without its body.
    const first = await Promise.race(started.map((raw, i) => raw.until(completeHttpResponse).then(() => i)));
    const refused = started[first];
    assert.ok(refused);
    assert.match(refused.received(), /^HTTP\/1\.1 503 /);
    assert.match(refused.received(), /\r\nretry-after: 1\r\n/i);
    assert.match(refused.received(), /"code":"server_busy"/);
    assert.match(refused.received(), /\r\nconnection: close\r\n/i, "and closed, not read to its end");
    const waiting = started.filter((_, i) => i !== first);
    for (const raw of waiting) assert.equal(raw.received(), "", "the bodies that fit are still being received");
    refused.socket.destroy();

    // One body arrives whole (it is not JSON: a 400); its share is free again, and the next request is taken.
    const done = waiting[0];
    assert.ok(done);
    done.socket.write("x".repeat(BODY_LIMIT - '{"model": "'.length));
    assert.match(await done.until(completeHttpResponse), /^HTTP\/1\.1 400 /);
    const next = await rawConnection(flotilla.url);
    next.socket.write(`${head}${"y".repeat(BODY_LIMIT)}`);
    assert.match(await next.until(completeHttpResponse), /^HTTP\/1\.1 400 /, "taken and read: not refused for want of room");
    for (const raw of [done, next, ...waiting.slice(1)]) {
      raw.socket.destroy();
      await raw.closed;
    }
  });

  test("a head sent a character at a time is answered 408 and closed once headersTimeoutMs passes", { timeout: HANG_MS }, async () => {
    const raw = await rawConnection(flotilla.url);
    dribble(raw, `POST /v1/chat/completions HTTP/1.1\r\nHost: flotilla\r\nX-Slow: ${"x".repeat(10_000)}\r\n\r\n`, 20);
    assertTimedOut(await raw.closed);
  });

  test("a body sent slowly to /v1 without credentials is answered 408 and closed once bodyTimeoutMs passes", { timeout: HANG_MS }, async () => {
    const raw = await rawConnection(flotilla.url);
    const body = JSON.stringify({ model: "m", messages: [{ role: "user", content: "x".repeat(4_000) }] });
    raw.socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: flotilla\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    dribble(raw, body, 20);
    assertTimedOut(await raw.closed);
  });

  // Last: it leaves 127.0.0.1 refused for the rest of the window.
  test("failed authentications past the limit get 429 + Retry-After in OpenAI's shape, on every credentialed route, logged without the secret", async () => {
    const wrong = "flt_admin_wrong_secret_0123456789";
    const status = () => fetch(`${flotilla.url}/cluster/status`, { headers: { authorization: `Bearer ${wrong}` } });
    for (let i = 0; i < FAILURES.maxFailures; i++) assert.equal((await status()).status, 401, `failure ${i + 1} is still a 401`);
    const limited = await status();
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get("retry-after")) >= 1, `Retry-After: ${limited.headers.get("retry-after")}`);
    const body = (await limited.json()) as { error: Record<string, unknown> };
    assert.deepEqual(Object.keys(body.error).sort(), ["code", "message", "param", "type"]);
    assert.equal(body.error.code, "rate_limit_exceeded");
    assert.equal(body.error.type, "requests");

    // While refused, no credential is even checked: a right guess would learn nothing.
    const right = await fetch(`${flotilla.url}/cluster/status`, { headers: { authorization: `Bearer ${flotilla.adminKey}` } });
    assert.equal(right.status, 429);
    for (const [method, route] of [["POST", "/cluster/heartbeat"], ["POST", "/cluster/join"], ["GET", "/v1/models"]] as const) {
      const res = await fetch(`${flotilla.url}${route}`, { method, headers: { authorization: `Bearer ${wrong}`, "content-type": "application/json" }, ...(method === "POST" ? { body: "{}" } : {}) });
      assert.equal(res.status, 429, `${method} ${route}`);
    }
    assert.equal((await fetch(`${flotilla.url}/healthz`)).status, 200, "health stays open to probes");

    const log = flotilla.stderr();
    assert.match(log, /authentication failed/);
    assert.ok(!log.includes(wrong), "the presented secret is not logged");
    assert.ok(!log.includes(flotilla.adminKey), "nor the admin key");
  });
});

/**
 * A stand-in WorkloadHost, named as such: it sends one chunk, then waits for
 * the test to let it finish, so that its answer lasts as long as the test
 * needs. The HTTP server around it is the agent's real one.
 */
class GatedHost implements WorkloadHost {
  readonly #agent = new Agent({ maxQueued: 1, maxWaitMs: 1_000 });
  #open: () => void = () => {};
  readonly gate = new Promise<void>((resolve) => (this.#open = resolve));
  started = Promise.withResolvers<void>();

  open(): void {
    this.#open();
  }

  load(): AgentLoad {
    return this.#agent.load();
  }

  async run(_workload: Workload, options: RunOptions): Promise<WorkloadResult> {
    options.onChunk?.({ type: "text", text: "Once", tokens: 1 });
    this.started.resolve();
    await this.gate;
    return { kind: "generation", text: "Once", finishReason: "stop", promptTokens: 1, completionTokens: 1 };
  }
}

describe("slow clients and failed authentication: the agent's HTTP server", { timeout: HANG_MS * 3 }, () => {
  const credential = "flt_coord_slow_clients_test_credential";
  const host = new GatedHost();
  let server: FastifyInstance;
  let url: string;

  before(async () => {
    server = buildAgentServer({
      host,
      coordinatorCredentialHash: () => hashSecret(credential),
      logger: pino({ level: "silent" }),
      httpLimits: { ...LIMITS, maxConnectionsPerIp: 50 },
      authFailureLimit: FAILURES,
    });
    url = await server.listen({ host: "127.0.0.1", port: 0 });
  });

  after(async () => {
    host.open();
    await server.close();
  });

  test("a slow body to /agent/v1/run gets 408, while an answer that streams for longer than bodyTimeoutMs is not cut", { timeout: HANG_MS }, async () => {
    const run = JSON.stringify({ model: "m", input: { kind: "completion", prompt: "hi" }, params: { stop: [] } });
    const streaming = await rawConnection(url);
    streaming.socket.write(
      `POST /agent/v1/run HTTP/1.1\r\nHost: agent\r\nAuthorization: Bearer ${credential}\r\nContent-Type: application/json\r\nContent-Length: ${run.length}\r\n\r\n${run}`,
    );
    await host.started.promise;

    const slow = await rawConnection(url);
    slow.socket.write(`POST /agent/v1/run HTTP/1.1\r\nHost: agent\r\nAuthorization: Bearer ${credential}\r\nContent-Type: application/json\r\nContent-Length: ${run.length}\r\n\r\n`);
    dribble(slow, run, 50);
    assertTimedOut(await slow.closed);

    // The slow body's limit has passed, and the streaming answer began before
    // it: it must still be open and finish normally.
    assert.equal(streaming.socket.destroyed, false, "the streaming answer was cut");
    host.open();
    const answer = await streaming.until((r) => r.includes('"event":"result"'));
    assert.match(answer, /^HTTP\/1\.1 200/);
    assert.match(answer, /"event":"chunk"/);
    streaming.socket.end();
    await streaming.closed;
  });

  test("wrong coordinator credentials past the limit get 429 + Retry-After in OpenAI's shape", async () => {
    const status = (secret: string) => fetch(`${url}/agent/v1/status`, { headers: { authorization: `Bearer ${secret}` } });
    for (let i = 0; i < FAILURES.maxFailures; i++) assert.equal((await status("flt_coord_wrong")).status, 401);
    const limited = await status(credential);
    assert.equal(limited.status, 429, "refused before the credential is checked");
    assert.ok(Number(limited.headers.get("retry-after")) >= 1);
    const body = (await limited.json()) as { error: { code: string; type: string } };
    assert.equal(body.error.code, "rate_limit_exceeded");
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
  });
});
