import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { connect } from "node:net";
import { once } from "node:events";
import { exposedGc, nextCollectionAt, releaseMemoryOfClosedConnections } from "./release-memory.ts";

const policy = { minBytes: 1024, minIntervalMs: 1_000 };

test("collections run at once the first time, then at most once per interval, and never twice pending", () => {
  assert.equal(nextCollectionAt(5_000, null, null, policy), 5_000);
  assert.equal(nextCollectionAt(5_200, 5_000, null, policy), 6_000, "within the interval: when it ends");
  assert.equal(nextCollectionAt(7_000, 5_000, null, policy), 7_000, "after it: at once");
  assert.equal(nextCollectionAt(5_200, 5_000, 6_000, policy), null, "one is already scheduled");
});

test("a connection that read a large body and left brings one collection", async () => {
  const server = createServer((req) => {
    // Never answered: the client leaves mid-body, as a slow attacker's would.
    req.resume();
  });
  let collected!: () => void;
  const collection = new Promise<void>((resolve) => (collected = resolve));
  releaseMemoryOfClosedConnections(server, policy, collected);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  assert.ok(address !== null && typeof address === "object");
  // Leave once the server has read part of the body (more than minBytes).
  const read = new Promise<void>((resolve) => server.once("request", (req) => req.once("data", () => resolve())));
  const socket = connect(address.port, "127.0.0.1");
  await once(socket, "connect");
  socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n${"a".repeat(50_000)}`);
  await read;
  socket.destroy();
  await collection;
  server.close();
});

test("V8's collector can be had at run time", () => {
  const gc = exposedGc();
  gc();
});
