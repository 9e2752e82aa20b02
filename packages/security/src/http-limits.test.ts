import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_HTTP_LIMITS, serverTimeoutOptions } from "./http-limits.ts";

test("the body limit is Node's requestTimeout, both as Fastify's option and on the server; the head limit is headersTimeout", () => {
  const options = serverTimeoutOptions({ headersTimeoutMs: 500, bodyTimeoutMs: 1_000 });
  assert.equal(options.requestTimeout, 1_000, "Fastify sets server.requestTimeout from its own option, after creating the server");
  assert.equal(options.http.requestTimeout, 1_000);
  assert.equal(options.http.headersTimeout, 500);
});

test("Node checks the timeouts at a quarter of the shorter limit, never more often than every 50 ms nor less than every 30 s", () => {
  assert.equal(serverTimeoutOptions({ headersTimeoutMs: 400, bodyTimeoutMs: 1_000 }).http.connectionsCheckingInterval, 100);
  assert.equal(serverTimeoutOptions({ headersTimeoutMs: 100, bodyTimeoutMs: 100 }).http.connectionsCheckingInterval, 50);
  assert.equal(serverTimeoutOptions({ headersTimeoutMs: 600_000, bodyTimeoutMs: 600_000 }).http.connectionsCheckingInterval, 30_000);
  assert.equal(serverTimeoutOptions(DEFAULT_HTTP_LIMITS).http.connectionsCheckingInterval, 2_500);
});
