// The CLI against a stand-in "coordinator" (a node:http server on loopback
// that records what it is sent): the admin key in a data directory goes only
// to the coordinator it belongs to, `chat` sends a client key and never the
// admin key, and what a remote server says reaches the terminal escaped.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { runCli } from "@flotilla/testkit";

const ADMIN_KEY = "flt_admin_kept_in_the_data_dir_0123456789abcdef";
const ESC = "\x1b";
/** Sets the terminal's title, then clears the screen. */
const HOSTILE = `${ESC}]0;pwned\x07${ESC}[2J${ESC}[H`;

const node = {
  name: "node-0",
  kind: "agent",
  health: "ready",
  drained: false,
  tier: 1,
  pool: "default",
  url: "http://127.0.0.1:9",
  models: [{ id: `stories${HOSTILE}`, contextSize: 256, loadedAtMs: 0, slots: { total: 1, busy: 0, queued: 0 }, capabilities: ["chat"] }],
  inFlight: 0,
  hardware: null,
  lastSeenAgoMs: 100,
  latency: { firstTokenMs: null, totalMs: null, samples: 0 },
  state: "ready",
  circuit: { state: "closed", consecutiveFailures: 0, ejectionLeftMs: 0, openings: 0, pausedByNode: false },
  dispatched: 0,
};
const status = {
  nodes: [node],
  totals: { nodes: 1, ready: 1, slots: 1, inFlight: 0 },
  queue: { depth: 0, maxDepth: 64, maxWaitMs: 30_000 },
  discovered: [],
};
const chunk = (content: string, finish: string | null) =>
  `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 0, model: "m", choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`;

describe("cli: keys and remote text", () => {
  let server: Server;
  let standIn: string;
  let dataDir: string;
  const seen: Array<{ route: string; headers: IncomingHttpHeaders }> = [];

  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      const route = `${req.method} ${req.url}`;
      seen.push({ route, headers: req.headers });
      if (route === "GET /cluster/status") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(status));
      } else if (route === "POST /v1/chat/completions") {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.end(`${chunk(`Once${HOSTILE} upon\na time`, null)}${chunk("", "stop")}data: [DONE]\n\n`);
      } else {
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "no such route" } }));
      }
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    standIn = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dataDir = await mkdtemp(path.join(tmpdir(), "flotilla-cli-keys-"));
    await writeFile(path.join(dataDir, "admin.key"), `${ADMIN_KEY}\n`, { mode: 0o600 });
  });
  after(async () => {
    server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** The CLI with the data directory's key only: no key in the environment. */
  const run = (args: string[], extra: Record<string, string> = {}) =>
    runCli(args, { FLOTILLA_URL: standIn, FLOTILLA_DATA_DIR: dataDir, FLOTILLA_ADMIN_KEY: "", FLOTILLA_API_KEY: "", ...extra });
  const sentAdminKey = () => seen.some((s) => s.headers.authorization?.includes(ADMIN_KEY) === true);
  const recordOrigins = (origins: string[]) => writeFile(path.join(dataDir, "admin.key.origins"), `${origins.join("\n")}\n`);

  test("the admin key in the data directory is not sent to a URL it does not belong to", async () => {
    seen.length = 0;
    await recordOrigins(["http://127.0.0.1:1", "http://localhost:1"]);
    const res = await run(["cluster", "status"]);
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /not sending the admin key in .* to http:\/\/127\.0\.0\.1:\d+: it belongs to http:\/\/127\.0\.0\.1:1/);
    assert.equal(sentAdminKey(), false, "the stand-in never saw the admin key");
  });

  test("with no coordinator recorded for it, the key is not sent anywhere", async () => {
    seen.length = 0;
    await rm(path.join(dataDir, "admin.key.origins"), { force: true });
    const res = await run(["cluster", "status"]);
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /no coordinator has recorded where it listens/);
    assert.equal(sentAdminKey(), false);
  });

  test("to the coordinator it belongs to, the key is sent", async () => {
    seen.length = 0;
    await recordOrigins([standIn]);
    const res = await run(["cluster", "status"]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(sentAdminKey(), true);
  });

  test("chat sends a client key, never the admin key, even to the coordinator the key belongs to", async () => {
    await recordOrigins([standIn]);
    seen.length = 0;
    const open = await run(["chat", "hi"]);
    assert.equal(open.code, 0, open.stderr);
    assert.equal(sentAdminKey(), false, "no admin key without a client key");
    seen.length = 0;
    const keyed = await run(["chat", "hi"], { FLOTILLA_API_KEY: "flt_client_key" });
    assert.equal(keyed.code, 0, keyed.stderr);
    assert.deepEqual(seen.map((s) => s.headers.authorization), ["Bearer flt_client_key"]);
  });

  test("remote strings reach the terminal escaped: the status table and a chat answer", async () => {
    await recordOrigins([standIn]);
    const table = await run(["cluster", "status"]);
    assert.equal(table.code, 0, table.stderr);
    assert.ok(!table.stdout.includes(ESC) && !table.stdout.includes("\x07"), JSON.stringify(table.stdout));
    assert.match(table.stdout, /stories\\x1b\]0;pwned\\x07\\x1b\[2J\\x1b\[H/);
    // --json is JSON, which escapes control characters itself: the id is there as sent.
    const json = await run(["cluster", "status", "--json"]);
    assert.equal((JSON.parse(json.stdout) as typeof status).nodes[0]?.models[0]?.id, `stories${HOSTILE}`);

    const chat = await run(["chat", "hi"]);
    assert.equal(chat.code, 0, chat.stderr);
    assert.ok(!chat.stdout.includes(ESC), JSON.stringify(chat.stdout));
    assert.equal(chat.stdout, "Once\\x1b]0;pwned\\x07\\x1b[2J\\x1b[H upon\na time\n", "its lines kept");
  });
});
