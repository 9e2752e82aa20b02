// A join token admits a new machine, not a name: whoever holds a token must
// not take over the name (record, credential, traffic) of a node already in
// the cluster. The real agent re-joins by presenting its saved credential; a
// name an admin removed is free again. The coordinator and its store are real
// (in-process, over inject); the joins are what an agent sends.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { Agent, detectHardware } from "@flotilla/agent";
import { createCoordinator, DEFAULT_ALLOWED_NETWORKS, type Coordinator } from "@flotilla/coordinator";
import { PROTOCOL_VERSION, type JoinRequest, type JoinResponse } from "@flotilla/protocol";
import { generateSecret } from "@flotilla/security";

describe("joining under a member's name", () => {
  let dataDir: string;
  let coordinator: Coordinator;
  let agentHost: Agent;
  let adminKey: string;
  let joinBody: (name: string, agentUrl: string) => JoinRequest;

  const call = (method: "POST" | "DELETE", url: string, credential: string, body?: object) =>
    coordinator.app.inject({ method, url, headers: { authorization: `Bearer ${credential}` }, ...(body ? { payload: body } : {}) });
  const newToken = async (): Promise<string> => {
    const res = await call("POST", "/cluster/tokens", adminKey, { uses: 1, ttlMs: 600_000 });
    assert.equal(res.statusCode, 201, res.body);
    return res.json<{ token: string }>().token;
  };
  const heartbeat = (credential: string, agentUrl: string) =>
    call("POST", "/cluster/heartbeat", credential, { protocolVersion: PROTOCOL_VERSION, agentUrl, load: agentHost.load() });
  const nodeUrl = async (name: string): Promise<string> => {
    const res = await coordinator.app.inject({ method: "GET", url: `/cluster/nodes/${name}`, headers: { authorization: `Bearer ${adminKey}` } });
    assert.equal(res.statusCode, 200, res.body);
    return res.json<{ url: string }>().url;
  };

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "flotilla-takeover-"));
    adminKey = generateSecret("admin");
    coordinator = await createCoordinator({
      dataDir,
      adminKeyFromEnv: adminKey,
      bodyLimitBytes: 1024 * 1024,
      heartbeatIntervalMs: 60_000,
      allowedNetworks: DEFAULT_ALLOWED_NETWORKS,
      logger: pino({ level: "silent" }),
    });
    await coordinator.app.ready();
    agentHost = new Agent({ maxQueued: 1, maxWaitMs: 1_000 });
    const hardware = await detectHardware({ modelDir: dataDir });
    joinBody = (name, agentUrl) => ({ protocolVersion: PROTOCOL_VERSION, name, tier: 1, pool: "default", agentUrl, hardware, load: agentHost.load() });
  });

  after(async () => {
    await agentHost.close();
    await coordinator.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test("a token alone cannot take a member's name; the member keeps its record and credential", async () => {
    const victimUrl = "http://127.0.0.1:7101";
    const joined = await call("POST", "/cluster/join", await newToken(), joinBody("victim", victimUrl));
    assert.equal(joined.statusCode, 200, joined.body);
    const victim = joined.json<JoinResponse>();

    const token = await newToken();
    const takeover = await call("POST", "/cluster/join", token, joinBody("victim", "http://127.0.0.1:7102"));
    assert.equal(takeover.statusCode, 409, takeover.body);
    const error = takeover.json<{ error: { code: string; param: string; message: string } }>().error;
    assert.equal(error.code, "conflict");
    assert.equal(error.param, "name");
    assert.match(error.message, /already a member/);
    assert.match(error.message, /flotilla cluster remove victim/);

    assert.equal(await nodeUrl("victim"), victimUrl, "the record still points at the real agent");
    assert.equal((await heartbeat(victim.nodeCredential, victimUrl)).statusCode, 200, "the real agent's credential still works");
    // A refused join leaves the token usable: spend it on a name of its own.
    assert.equal((await call("POST", "/cluster/join", token, joinBody("newcomer", "http://127.0.0.1:7103"))).statusCode, 200);
  });

  test("a credential of another node does not open the name either", async () => {
    const a = (await call("POST", "/cluster/join", await newToken(), joinBody("owner-a", "http://127.0.0.1:7111"))).json<JoinResponse>();
    await call("POST", "/cluster/join", await newToken(), joinBody("owner-b", "http://127.0.0.1:7112"));
    const res = await call("POST", "/cluster/join", await newToken(), { ...joinBody("owner-b", "http://127.0.0.1:7113"), nodeCredential: a.nodeCredential });
    assert.equal(res.statusCode, 409, res.body);
    assert.equal(await nodeUrl("owner-b"), "http://127.0.0.1:7112");
  });

  test("the node's own agent re-joins with its saved credential, which is then replaced", async () => {
    const first = (await call("POST", "/cluster/join", await newToken(), joinBody("moved", "http://127.0.0.1:7121"))).json<JoinResponse>();
    const again = await call("POST", "/cluster/join", await newToken(), {
      ...joinBody("moved", "http://127.0.0.1:7122"),
      nodeCredential: first.nodeCredential,
    });
    assert.equal(again.statusCode, 200, again.body);
    const second = again.json<JoinResponse>();
    assert.equal(await nodeUrl("moved"), "http://127.0.0.1:7122");
    assert.equal((await heartbeat(first.nodeCredential, "http://127.0.0.1:7122")).statusCode, 401, "the old credential is forgotten");
    assert.equal((await heartbeat(second.nodeCredential, "http://127.0.0.1:7122")).statusCode, 200);
  });

  test("once an admin removed the node, its name is free for a new machine", async () => {
    await call("POST", "/cluster/join", await newToken(), joinBody("retired", "http://127.0.0.1:7131"));
    assert.equal((await call("DELETE", "/cluster/nodes/retired", adminKey)).statusCode, 204);
    const res = await call("POST", "/cluster/join", await newToken(), joinBody("retired", "http://127.0.0.1:7132"));
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(await nodeUrl("retired"), "http://127.0.0.1:7132");
  });
});
