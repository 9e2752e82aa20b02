// The CLI against a coordinator that answers something it does not
// understand (another version, a proxy in between): one clear line and exit
// 1, never a TypeError or a stack. The "coordinator" here is a stand-in, a
// tiny node:http server on loopback that answers each route with whatever a
// case sets: a real coordinator cannot be made to send a malformed answer.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { runCli } from "@flotilla/testkit";

interface Canned {
  status: number;
  body: string;
}

/** A node as a coordinator of this version presents it; cases break one field. */
const node = {
  name: "node-0",
  kind: "agent",
  health: "ready",
  drained: false,
  tier: 1,
  pool: "default",
  url: "http://127.0.0.1:9",
  models: [{ id: "stories", contextSize: 256, loadedAtMs: 0, slots: { total: 1, busy: 0, queued: 0 }, capabilities: ["chat"] }],
  inFlight: 0,
  hardware: null,
  lastSeenAgoMs: 100,
  latency: { firstTokenMs: null, totalMs: null, samples: 0 },
  state: "ready",
  circuit: { state: "closed", consecutiveFailures: 0, ejectionLeftMs: 0, openings: 0, pausedByNode: false },
  dispatched: 0,
};
const status = (nodes: unknown[]) => ({
  nodes,
  totals: { nodes: nodes.length, ready: nodes.length, slots: nodes.length, inFlight: 0 },
  queue: { depth: 0, maxDepth: 64, maxWaitMs: 30_000 },
  discovered: [],
});
const json = (value: unknown, code = 200): Canned => ({ status: code, body: JSON.stringify(value) });

const CLEAR = /^flotilla: the coordinator answered something this CLI does not understand: (.+) — is it a different version\?\n$/;

describe("cli: answers it does not understand", () => {
  let server: Server;
  let env: Record<string, string>;
  /** "METHOD /path" → the answer; unknown routes get a 404 in OpenAI's error shape. */
  let answers = new Map<string, Canned>();

  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      const canned = answers.get(`${req.method} ${req.url}`) ?? json({ error: { message: `stand-in: no answer for ${req.method} ${req.url}` } }, 404);
      res.writeHead(canned.status, canned.body === "" ? {} : { "content-type": "application/json" }).end(canned.body);
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    env = { FLOTILLA_URL: `http://127.0.0.1:${port}`, FLOTILLA_ADMIN_KEY: "flt_admin_stand_in" };
  });
  after(() => {
    server.close();
  });

  /** Runs the CLI; asserts exit 1 and the one clear line; returns what it named. */
  async function refused(args: string[]): Promise<string> {
    const res = await runCli(args, env);
    assert.doesNotMatch(res.stderr, /TypeError|\n\s+at /, res.stderr);
    assert.equal(res.code, 1, res.stderr);
    const match = CLEAR.exec(res.stderr);
    assert.ok(match, res.stderr);
    return match[1] ?? "";
  }

  test("cluster status: a field of the wrong kind is named by its path", async () => {
    answers = new Map([["GET /cluster/status", json(status([node, { ...node, name: "node-1", health: "sick" }]))]]);
    assert.match(await refused(["cluster", "status"]), /^nodes\[1\]\.health: /);
    // --json reads the same answer: it is checked before it is printed.
    assert.match(await refused(["cluster", "status", "--json"]), /^nodes\[1\]\.health: /);
  });

  test("cluster status: a field missing, and an answer that is not JSON", async () => {
    const { latency: _latency, ...noLatency } = node;
    answers = new Map([["GET /cluster/status", json(status([noLatency]))]]);
    assert.match(await refused(["cluster", "status"]), /^nodes\[0\]\.latency: /);
    answers = new Map([["GET /cluster/status", { status: 200, body: "<html>hello from a proxy</html>" }]]);
    assert.match(await refused(["cluster", "status"]), /^the answer: /);
  });

  test("cluster status: this version's answer still lists (the stand-in answers what the schema expects)", async () => {
    answers = new Map([["GET /cluster/status", json({ ...status([node]), addedLater: true })]]);
    const res = await runCli(["cluster", "status"], env);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /node-0\s+1\s+default/);
    // --json shows the answer as it came, a field this CLI does not know included.
    const printed = await runCli(["cluster", "status", "--json"], env);
    assert.equal((JSON.parse(printed.stdout) as { addedLater?: boolean }).addedLater, true);
  });

  test("keys, tokens, drain, remove and add", async () => {
    answers = new Map([
      ["GET /cluster/keys", json({ keys: "none" })],
      ["POST /cluster/keys", json({ id: "k1", name: "default", prefix: "flt_abcd", createdAtMs: 0 }, 201)],
      ["POST /cluster/tokens", json({ expiresAtMs: 0, uses: 1 }, 201)],
      ["POST /cluster/nodes/node-0/drain", json({ name: "node-0", drained: "yes" })],
      // remove reads the node first (what to say depends on its kind), then deletes it.
      ["GET /cluster/nodes/node-0", json(node)],
      ["DELETE /cluster/nodes/node-0", json({ removed: true })],
      ["POST /cluster/nodes", json({ ...node, models: null }, 201)],
    ]);
    assert.match(await refused(["keys", "list"]), /^keys: /);
    assert.match(await refused(["keys", "create"]), /^key: /);
    assert.match(await refused(["token", "create"]), /^token: /);
    assert.match(await refused(["cluster", "drain", "node-0"]), /^drained: /);
    assert.match(await refused(["cluster", "remove", "node-0"]), /^the answer: /);
    assert.match(await refused(["cluster", "add", "http://127.0.0.1:9"]), /^models: /);
  });

  test("cluster test: a malformed result is that node's failure, and the run exits 1", async () => {
    answers = new Map([
      ["GET /cluster/status", json(status([node]))],
      ["POST /cluster/nodes/node-0/test", json({ node: "node-0", model: "stories", firstTokenMs: null, totalMs: "fast", completionTokens: 16, tokensPerSecond: 1 })],
    ]);
    const res = await runCli(["cluster", "test"], env);
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stdout, /node-0.*does not understand: totalMs: /);
    assert.match(res.stderr, /^flotilla: 1 of 1 nodes failed the test\n$/);
  });
});
