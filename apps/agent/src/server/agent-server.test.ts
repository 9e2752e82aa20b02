// The assignment routes through Fastify's inject, with a real keeper whose
// template runs a real program (../workloads/fixtures/health-server.mjs).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, InjectOptions } from "fastify";
import { pino } from "pino";
import { assignmentResponse, type AssignmentReport } from "@flotilla/protocol";
import { hashSecret } from "@flotilla/security";
import { freePort } from "@flotilla/testkit";
import { Agent } from "../agent.ts";
import { AssignmentKeeper } from "../workloads/assignment-keeper.ts";
import { ProcessDriver } from "../workloads/process-driver.ts";
import { buildAgentServer } from "./agent-server.ts";

const FIXTURE = fileURLToPath(new URL("../workloads/fixtures/health-server.mjs", import.meta.url));
const CREDENTIAL = "coordinator-credential";
const logger = pino({ level: "silent" });

const port = await freePort();
const keeper = new AssignmentKeeper({
  templates: {
    echo: {
      driver: "process",
      command: [process.execPath, FIXTURE, String(port)],
      health: `http://127.0.0.1:${port}/health`,
      startTimeoutMs: 10_000,
      restarts: 0,
      restartWindowMs: 60_000,
      stopGraceMs: 5_000,
    },
  },
  createDriver: (name, template) => {
    assert.equal(template.driver, "process");
    return new ProcessDriver({ name, template, path: process.env.PATH, log: logger });
  },
  log: logger,
});
const agent = new Agent({ maxQueued: 1, maxWaitMs: 1_000 });
agent.attachAssignments(keeper);
const app = buildAgentServer({ host: agent, coordinatorCredentialHash: () => hashSecret(CREDENTIAL), logger, assignments: keeper });
const bare = buildAgentServer({ host: agent, coordinatorCredentialHash: () => hashSecret(CREDENTIAL), logger });

after(async () => {
  await keeper.close();
  await Promise.all([app.close(), bare.close(), agent.close()]);
});

const call = (server: FastifyInstance, method: "GET" | "PUT" | "DELETE", payload?: unknown, credential: string | null = CREDENTIAL) => {
  const options: InjectOptions = { method, url: "/agent/v1/assignment", headers: credential === null ? {} : { authorization: `Bearer ${credential}` } };
  if (payload !== undefined) options.payload = payload as InjectOptions["payload"];
  return server.inject(options);
};

/** Resolves with the first report (or null) that `wanted` accepts: the keeper says when its state changes. */
const reportWhere = (wanted: (report: AssignmentReport | null) => boolean) =>
  new Promise<AssignmentReport | null>((resolve) => {
    const now = keeper.report();
    if (wanted(now)) resolve(now);
    keeper.onChange((report) => {
      if (wanted(report)) resolve(report);
    });
  });

test("every assignment route wants the coordinator's credential", async () => {
  for (const method of ["GET", "PUT", "DELETE"] as const) {
    for (const credential of [null, "someone-else"]) {
      const res = await call(app, method, method === "PUT" ? { id: "a1", template: "echo", pool: "vision" } : undefined, credential);
      assert.equal(res.statusCode, 401, `${method} with ${credential ?? "none"}`);
      assert.equal(res.json<{ error: { code: string } }>().error.code, "invalid_api_key");
    }
  }
  assert.equal(keeper.report(), null, "nothing was assigned");
});

test("nothing assigned: GET and DELETE answer null", async () => {
  const got = await call(app, "GET");
  assert.equal(got.statusCode, 200);
  assert.deepEqual(got.json(), { assignment: null });
  const deleted = await call(app, "DELETE");
  assert.equal(deleted.statusCode, 200);
  assert.deepEqual(deleted.json(), { assignment: null });
});

test("a bad body is a 400 naming the field", async () => {
  for (const [body, param] of [
    [{ id: "a 1", template: "echo", pool: "vision" }, "id"],
    [{ id: "a1", template: "Echo!", pool: "vision" }, "template"],
    [{ id: "a1", template: "echo" }, "pool"],
    [{ id: "a1", template: "echo", pool: "vision", command: ["/bin/sh"] }, null],
  ] as const) {
    const res = await call(app, "PUT", body);
    assert.equal(res.statusCode, 400, JSON.stringify(body));
    const { error } = res.json<{ error: { code: string; param: string | null; message: string } }>();
    assert.equal(error.code, "invalid_request");
    assert.equal(error.param, param);
    if (param !== null) assert.match(error.message, new RegExp(`^${param}: `));
    else assert.match(error.message, /command/, "an unknown key is named in the message");
  }
  const empty = await call(app, "PUT");
  assert.equal(empty.statusCode, 400);
});

test("a template the configuration does not list is a 404 naming it", async () => {
  const res = await call(app, "PUT", { id: "a1", template: "mine-bitcoin", pool: "vision" });
  assert.equal(res.statusCode, 404);
  const { error } = res.json<{ error: { code: string; param: string; message: string } }>();
  assert.deepEqual(error, { code: "not_found", param: "template", message: `template "mine-bitcoin" is not listed in this agent's configuration`, type: "invalid_request_error" });
});

test("PUT provisions (202, idempotent by id), the status and GET report it running; another id is a 409; DELETE releases", async () => {
  const running = reportWhere((r) => r?.state === "running");
  const put = await call(app, "PUT", { id: "a1", template: "echo", pool: "vision" });
  assert.equal(put.statusCode, 202);
  const first = assignmentResponse.parse(put.json()).assignment;
  assert.equal(first?.state, "provisioning");
  await running;

  const again = await call(app, "PUT", { id: "a1", template: "echo", pool: "vision" });
  assert.equal(again.statusCode, 202);
  assert.equal(assignmentResponse.parse(again.json()).assignment?.state, "running");
  const other = await call(app, "PUT", { id: "a2", template: "echo", pool: "audio" });
  assert.equal(other.statusCode, 409);

  const got = assignmentResponse.parse((await call(app, "GET")).json());
  assert.deepEqual({ ...got.assignment, stateAgeMs: 0 }, { id: "a1", template: "echo", pool: "vision", state: "running", stateAgeMs: 0 });
  const status = await app.inject({ method: "GET", url: "/agent/v1/status", headers: { authorization: `Bearer ${CREDENTIAL}` } });
  const load = status.json<{ templates: string[]; assignment: AssignmentReport | null }>();
  assert.deepEqual(load.templates, ["echo"]);
  assert.equal(load.assignment?.state, "running");

  const gone = reportWhere((r) => r === null);
  const deleted = await call(app, "DELETE");
  assert.equal(deleted.statusCode, 202);
  assert.equal(assignmentResponse.parse(deleted.json()).assignment?.state, "stopping");
  await gone;
  assert.deepEqual((await call(app, "GET")).json(), { assignment: null });
  assert.equal(await fetch(`http://127.0.0.1:${port}/health`).then(() => "up", () => "down"), "down", "the program is stopped");
});

test("an agent without a keeper answers the assignment routes with 404", async () => {
  for (const method of ["GET", "PUT", "DELETE"] as const) {
    const res = await call(bare, method, method === "PUT" ? { id: "a1", template: "echo", pool: "vision" } : undefined);
    assert.equal(res.statusCode, 404, method);
    assert.deepEqual(res.json<{ error: { code: string; message: string } }>().error.message, "this agent takes no assignments");
  }
  const noAuth = await call(bare, "GET", undefined, null);
  assert.equal(noAuth.statusCode, 401, "the credential is checked first");
});
