// beatSoon against a real HTTP server standing in for the coordinator's
// heartbeat route, which holds each beat until the test answers it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type ServerResponse } from "node:http";
import { FLOTILLA_VERSION, PROTOCOL_VERSION, type Heartbeat } from "@flotilla/protocol";
import { HeartbeatLoop } from "./heartbeat-loop.ts";

test("beatSoon sends at once, coalesces while a beat is on its way, and never sends two at once", async () => {
  const held: { res: ServerResponse; body: Heartbeat }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let arrived: () => void = () => {};
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk: Buffer) => (text += chunk.toString()));
    req.on("end", () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      held.push({ res, body: JSON.parse(text) as Heartbeat });
      arrived();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  assert.ok(address && typeof address === "object");
  const next = () => new Promise<void>((resolve) => (arrived = resolve));
  const answer = (i: number) => {
    inFlight--;
    held[i]?.res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ heartbeatIntervalMs: 600_000 }));
  };

  let generation = 0;
  const loop = new HeartbeatLoop({
    coordinatorUrl: `http://127.0.0.1:${address.port}`,
    credential: "node-credential",
    // Longer than the test: every beat after the first is one beatSoon asked for.
    intervalMs: 600_000,
    beat: () => ({
      protocolVersion: PROTOCOL_VERSION,
      agentUrl: `http://127.0.0.1:${generation}`,
      load: { models: [], inFlight: 0, cpuPercent: 0, rssBytes: 1, memoryAvailableBytes: 1, agentVersion: FLOTILLA_VERSION },
    }),
    onChange: () => {},
  });
  loop.beatSoon();
  assert.equal(held.length, 0, "before start, beatSoon sends nothing");

  let arrival = next();
  loop.start();
  await arrival;
  // Three changes while the first beat is held: one beat, after it, carrying the latest.
  generation = 1;
  loop.beatSoon();
  generation = 2;
  loop.beatSoon();
  loop.beatSoon();
  arrival = next();
  answer(0);
  await arrival;
  assert.equal(held.length, 2);
  assert.equal(held[1]?.body.agentUrl, "http://127.0.0.1:2", "the beat is made when it is sent");

  // Another change: it goes out at once (or right after the beat being answered), not an interval later.
  answer(1);
  arrival = next();
  generation = 3;
  loop.beatSoon();
  await arrival;
  assert.equal(held.length, 3, "the three asked-for beats while one was held were one");
  assert.equal(held[2]?.body.agentUrl, "http://127.0.0.1:3");
  answer(2);
  await loop.stop();
  loop.beatSoon();
  assert.equal(maxInFlight, 1);
  server.closeAllConnections();
  server.close();
});
