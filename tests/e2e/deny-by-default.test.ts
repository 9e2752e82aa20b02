// Deny by default. Walks every route the coordinator and the agent register
// (recorded by recordRoutes, @flotilla/security/route-table) and checks that
// each one but the health endpoints refuses, with 401 and an OpenAI-shaped
// error, a request without a credential, with a wrong one, and with every
// credential that belongs elsewhere: an agent's credential on admin routes, a
// client key on agent routes, the admin key on the agent, and so on. A route
// added later without a credential check, or one nobody has classified below,
// fails here. Credentials are real: an in-process coordinator issues them.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { FastifyInstance, InjectOptions } from "fastify";
import { pino } from "pino";
import { Agent, buildAgentServer, detectHardware } from "@flotilla/agent";
import { createCoordinator, DEFAULT_ALLOWED_NETWORKS, type Coordinator } from "@flotilla/coordinator";
import { PROTOCOL_VERSION, type Heartbeat, type JoinRequest, type JoinResponse } from "@flotilla/protocol";
import { generateSecret, hashSecret } from "@flotilla/security";
import { routesOf, type RouteEntry } from "@flotilla/security/route-table";
import { REPO_ROOT } from "@flotilla/testkit";

const CREDENTIALS = [
  "none",
  /** A well-formed client key that was never issued. */
  "wrong",
  /** The admin key, sent with another scheme than Bearer. */
  "admin-as-basic",
  "admin",
  "client",
  /** An unspent join token. */
  "join",
  /** What agent A presents to the coordinator. */
  "node",
  /** What the coordinator presents to agent A. */
  "coordinator",
  /** What the coordinator presents to agent B. */
  "coordinator-of-b",
] as const;
type Credential = (typeof CREDENTIALS)[number];

/** Who may call a route: anyone, or exactly these credentials. */
type Policy = "public" | readonly Credential[];

const CLIENT: Policy = ["client", "admin"];
const ADMIN: Policy = ["admin"];

/**
 * Every coordinator URL, by name, with the credentials it takes (for every
 * method registered on it). Listed one by one, not by prefix, so that a route
 * added without a decision about who may call it fails the classification
 * test below instead of inheriting one from its neighbours.
 */
const COORDINATOR_POLICIES: Readonly<Record<string, Policy>> = {
  "/healthz": "public",
  "/readyz": "public",
  "/v1/models": CLIENT,
  "/v1/models/:id": CLIENT,
  "/v1/chat/completions": CLIENT,
  "/v1/completions": CLIENT,
  "/v1/embeddings": CLIENT,
  // OpenAI's audio API (docs/adr/0039).
  "/v1/audio/speech": CLIENT,
  "/v1/audio/transcriptions": CLIENT,
  // The async job API (docs/adr/0035): a client's own jobs.
  "/v1/jobs": CLIENT,
  "/v1/jobs/:id": CLIENT,
  "/v1/jobs/:id/cancel": CLIENT,
  "/v1/jobs/:id/result": CLIENT,
  "/v1/jobs/:id/events": CLIENT,
  // The secret that verifies the webhooks of the caller's jobs (docs/adr/0036).
  "/v1/webhooks/secret": CLIENT,
  // The seed's own shapes (docs/adr/0038): a split run, the queue's figures.
  "/generate": CLIENT,
  "/queue-status": CLIENT,
  // OpenAI's Files and Batch APIs (docs/adr/0037): a client's own files and batches.
  "/v1/files": CLIENT,
  "/v1/files/:id": CLIENT,
  "/v1/files/:id/content": CLIENT,
  "/v1/batches": CLIENT,
  "/v1/batches/:id": CLIENT,
  "/v1/batches/:id/cancel": CLIENT,
  "/cluster/execute": CLIENT,
  // MCP hosts take the client keys /v1 takes (docs/adr/0031).
  "/mcp": CLIENT,
  // A client deletes its own conversations (docs/adr/0026).
  "/cluster/conversations/:id": CLIENT,
  "/cluster/heartbeat": ["node"],
  // The metrics key (FLOTILLA_METRICS_KEY) may also read it; this walk does not set one.
  "/metrics": ADMIN,
  "/cluster/status": ADMIN,
  "/cluster/nodes": ADMIN,
  "/cluster/nodes/:name": ADMIN,
  "/cluster/nodes/:name/drain": ADMIN,
  "/cluster/pools": ADMIN,
  "/cluster/roamers": ADMIN,
  "/cluster/roamers/:name/assign": ADMIN,
  "/cluster/roamers/:name/release": ADMIN,
  "/cluster/nodes/:name/undrain": ADMIN,
  "/cluster/nodes/:name/test": ADMIN,
  "/cluster/tokens": ADMIN,
  "/cluster/route": ADMIN,
  "/cluster/keys": ADMIN,
  "/cluster/keys/:id": ADMIN,
  // The model store (docs/adr/0042): the admin adds, lists and removes; a joined node looks up and downloads.
  "/cluster/models": ADMIN,
  "/cluster/models/:name": ADMIN,
  "/cluster/models/:name/ref": ["admin", "node"],
  "/cluster/models/by-hash/:sha256": ["admin", "node"],
  // Ollama's API (docs/adr/0032): its probes are public, as Ollama's are; the rest is /v1's.
  "/": "public",
  "/api/version": "public",
  "/api/tags": CLIENT,
  "/api/ps": CLIENT,
  "/api/show": CLIENT,
  "/api/chat": CLIENT,
  "/api/generate": CLIENT,
  "/api/embed": CLIENT,
  "/api/embeddings": CLIENT,
};

function coordinatorPolicy(route: RouteEntry): Policy | undefined {
  // A join token is checked by spending it, which only POST does: no
  // credential makes another method on this path worth answering.
  if (route.url === "/cluster/join") return route.method === "POST" ? ["join"] : [];
  return Object.hasOwn(COORDINATOR_POLICIES, route.url) ? COORDINATOR_POLICIES[route.url] : undefined;
}

const AGENT_POLICIES: Readonly<Record<string, Policy>> = {
  "/healthz": "public",
  "/agent/v1/status": ["coordinator"],
  "/agent/v1/run": ["coordinator"],
  "/agent/v1/models/:id/info": ["coordinator"],
  // A roamer's assignment (issue 17): only its coordinator lends it.
  "/agent/v1/assignment": ["coordinator"],
  "/agent/v1/models/:id/load": ["coordinator"],
};

function agentPolicy(route: RouteEntry): Policy | undefined {
  return Object.hasOwn(AGENT_POLICIES, route.url) ? AGENT_POLICIES[route.url] : undefined;
}

const PATH_PARAMS: Record<string, string> = { name: "no-such-node", id: "no-such-id", sha256: "0".repeat(64) };
const MALFORMED_BODY = '{"model": ';
const MIN_COORDINATOR_ROUTES = 10;
/** More failures than the walk makes, in a window longer than it runs. */
const NO_FAILURE_LIMIT = { maxFailures: 1_000_000, windowMs: 60_000 };

const describeRoute = (route: RouteEntry) => `${route.method} ${route.url}`;

function concreteUrl(route: RouteEntry): string {
  assert.ok(!route.url.includes("*"), `${describeRoute(route)}: a wildcard route; give the walk a concrete URL for it`);
  return route.url.replace(/:(\w+)/g, (_, param: string) => {
    const value = PATH_PARAMS[param];
    assert.ok(value !== undefined, `${describeRoute(route)}: no plausible value for :${param} in PATH_PARAMS`);
    return value;
  });
}

interface ErrorBody {
  error: { message: unknown; type: unknown; param: unknown; code: unknown };
}

/** Null when `body` is the project's 401 error body, else what is wrong with it. */
function authErrorProblem(body: string, url: string): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return `body is not JSON: ${body}`;
  }
  // Ollama's paths answer in Ollama's shape, `{"error": "..."}` (docs/adr/0032).
  if (url.startsWith("/api/")) {
    const keys = Object.keys(parsed as object).join(",");
    const message = (parsed as { error?: unknown }).error;
    return keys === "error" && typeof message === "string" && message !== "" ? null : `not Ollama's error shape: ${body}`;
  }
  const error = (parsed as Partial<ErrorBody> | null)?.error;
  if (typeof error !== "object" || error === null) return `no error object: ${body}`;
  const keys = Object.keys(error).sort().join(",");
  if (keys !== "code,message,param,type") return `error keys are ${keys}: ${body}`;
  if (error.code !== "invalid_api_key" || error.type !== "authentication_error") return `not an authentication error: ${body}`;
  if (typeof error.message !== "string" || error.message === "" || error.param !== null) return `bad message or param: ${body}`;
  return null;
}

describe("deny by default: every route but the health endpoints wants its own credential", () => {
  let dataDir: string;
  let coordinator: Coordinator;
  let agentHost: Agent;
  let agentServer: FastifyInstance;
  let agentUrl: string;
  let coordinatorRoutes: readonly RouteEntry[];
  let agentRoutes: readonly RouteEntry[];
  let joinBody: (name: string) => JoinRequest;
  let heartbeatBody: Heartbeat;
  const headers = new Map<Credential, string | undefined>();
  const logger = pino({ level: "silent" });

  const bodyFor = (url: string): unknown => {
    switch (url) {
      case "/v1/chat/completions":
        return { model: "deny-model", messages: [{ role: "user", content: "hi" }] };
      case "/v1/completions":
        return { model: "deny-model", prompt: "hi" };
      case "/v1/embeddings":
        return { model: "deny-model", input: "hi" };
      case "/api/chat":
        return { model: "deny-model", messages: [{ role: "user", content: "hi" }] };
      case "/api/generate":
        return { model: "deny-model", prompt: "hi" };
      case "/api/embed":
        return { model: "deny-model", input: "hi" };
      case "/api/embeddings":
        return { model: "deny-model", prompt: "hi" };
      case "/api/show":
        return { model: "deny-model" };
      case "/cluster/execute":
        return { query: "hi", model: "deny-model", max_tokens: 1 };
      case "/mcp":
        return { jsonrpc: "2.0", id: 1, method: "tools/list" };
      case "/cluster/join":
        return joinBody("deny-probe");
      case "/cluster/heartbeat":
        return heartbeatBody;
      case "/cluster/keys":
        return { name: "deny-probe" };
      case "/agent/v1/run":
        return { model: "deny-model", input: { kind: "completion", prompt: "hi" }, params: { stop: [] } };
      default:
        return {};
    }
  };

  const send = (app: FastifyInstance, route: RouteEntry, credential: Credential, body: "plausible" | "malformed") => {
    const authorization = headers.get(credential);
    const options: InjectOptions = { method: route.method, url: concreteUrl(route), headers: authorization === undefined ? {} : { authorization } };
    if (["POST", "PUT", "PATCH"].includes(route.method)) {
      options.headers = { ...options.headers, "content-type": "application/json" };
      options.payload = body === "malformed" ? MALFORMED_BODY : JSON.stringify(bodyFor(route.url));
    }
    return app.inject(options);
  };

  const post = async <T>(url: string, credential: string, body: object): Promise<T> => {
    const res = await coordinator.app.inject({ method: "POST", url, headers: { authorization: `Bearer ${credential}` }, payload: body });
    assert.ok(res.statusCode < 300, `POST ${url}: ${res.statusCode} ${res.body}`);
    return res.json<T>();
  };

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "flotilla-deny-"));
    const adminKey = generateSecret("admin");
    coordinator = await createCoordinator({
      dataDir,
      adminKeyFromEnv: adminKey,
      bodyLimitBytes: 1024 * 1024,
      heartbeatIntervalMs: 60_000,
      allowedNetworks: DEFAULT_ALLOWED_NETWORKS,
      // Hundreds of wrong credentials from one address, on purpose: this walk
      // checks which credential each route takes, not the throttling of
      // failures (tests/e2e/slow-clients.test.ts does, docs/adr/0022).
      authFailureLimit: NO_FAILURE_LIMIT,
      logger,
    });
    await coordinator.app.ready();

    let coordinatorCredentialHash: string | null = null;
    agentHost = new Agent({ maxQueued: 1, maxWaitMs: 1_000 });
    agentServer = buildAgentServer({ host: agentHost, coordinatorCredentialHash: () => coordinatorCredentialHash, logger, authFailureLimit: NO_FAILURE_LIMIT });
    agentUrl = await agentServer.listen({ host: "127.0.0.1", port: 0 });
    const hardware = await detectHardware({ modelDir: dataDir });
    joinBody = (name) => ({ protocolVersion: PROTOCOL_VERSION, name, tier: 1, pool: "default", agentUrl, hardware, load: agentHost.load() });
    heartbeatBody = { protocolVersion: PROTOCOL_VERSION, agentUrl, load: agentHost.load() };

    // /v1 asks for a client key only once one exists: make one first.
    const { key: clientKey } = await post<{ key: string }>("/cluster/keys", adminKey, { name: "deny-by-default" });
    const { token } = await post<{ token: string }>("/cluster/tokens", adminKey, { uses: 10, ttlMs: 600_000 });
    const a = await post<JoinResponse>("/cluster/join", token, joinBody("deny-a"));
    const b = await post<JoinResponse>("/cluster/join", token, joinBody("deny-b"));
    coordinatorCredentialHash = hashSecret(a.coordinatorCredential);

    const bearer = (secret: string) => `Bearer ${secret}`;
    headers.set("none", undefined);
    headers.set("wrong", bearer(generateSecret("api")));
    headers.set("admin-as-basic", `Basic ${Buffer.from(`admin:${adminKey}`).toString("base64")}`);
    headers.set("admin", bearer(adminKey));
    headers.set("client", bearer(clientKey));
    headers.set("join", bearer(token));
    headers.set("node", bearer(a.nodeCredential));
    headers.set("coordinator", bearer(a.coordinatorCredential));
    headers.set("coordinator-of-b", bearer(b.coordinatorCredential));
    assert.equal(new Set(headers.values()).size, CREDENTIALS.length, "every credential is distinct");

    coordinatorRoutes = routesOf(coordinator.app);
    agentRoutes = routesOf(agentServer);
  });

  after(async () => {
    await agentServer.close();
    await agentHost.close();
    await coordinator.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test("the route tables are recorded in full", () => {
    const coordinatorNames = coordinatorRoutes.map(describeRoute);
    assert.ok(
      coordinatorRoutes.length >= MIN_COORDINATOR_ROUTES,
      `only ${coordinatorRoutes.length} coordinator routes were recorded: is recordRoutes still the first thing buildGateway does?\n${coordinatorNames.join("\n")}`,
    );
    for (const name of [
      "GET /healthz",
      "GET /readyz",
      "GET /v1/models",
      "POST /v1/chat/completions",
      "POST /v1/completions",
      "POST /v1/embeddings",
      "POST /cluster/execute",
      "GET /cluster/status",
      "DELETE /cluster/keys/:id",
      "POST /cluster/join",
      "POST /cluster/heartbeat",
      "GET /cluster/heartbeat",
    ]) {
      assert.ok(coordinatorNames.includes(name), `${name} is missing from the coordinator's recorded routes`);
    }
    const agentNames = agentRoutes.map(describeRoute);
    for (const name of ["GET /healthz", "GET /agent/v1/status", "POST /agent/v1/run"]) {
      assert.ok(agentNames.includes(name), `${name} is missing from the agent's recorded routes`);
    }
  });

  test("every route is classified: public, or the credentials it takes", () => {
    const unclassified = [
      ...coordinatorRoutes.filter((r) => coordinatorPolicy(r) === undefined).map((r) => `coordinator ${describeRoute(r)}`),
      ...agentRoutes.filter((r) => agentPolicy(r) === undefined).map((r) => `agent ${describeRoute(r)}`),
    ];
    assert.deepEqual(unclassified, [], "new routes: add them to COORDINATOR_POLICIES/AGENT_POLICIES above, with the credential they take");
    // And the other way: an entry for a route that no longer exists is a
    // decision nobody checks any more.
    const stale = [
      ...Object.keys(COORDINATOR_POLICIES).filter((url) => !coordinatorRoutes.some((r) => r.url === url)).map((url) => `coordinator ${url}`),
      ...Object.keys(AGENT_POLICIES).filter((url) => !agentRoutes.some((r) => r.url === url)).map((url) => `agent ${url}`),
    ];
    assert.deepEqual(stale, [], "policies for routes that are not registered: remove them");
  });

  test("every HTTP server in the apps records its routes, so none escapes this walk", async () => {
    // The walk sees only apps that call recordRoutes: a second Fastify
    // instance (a metrics port, an admin port) would be invisible to it.
    const sources = (await readdir(path.join(REPO_ROOT, "apps"), { recursive: true }))
      // Test fixtures (a stand-in upstream a test starts) are no server of flotilla's.
      .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts") && file.includes(`${path.sep}src${path.sep}`) && !file.includes(`${path.sep}fixtures${path.sep}`));
    const servers: string[] = [];
    const unrecorded: string[] = [];
    for (const file of sources) {
      const text = await readFile(path.join(REPO_ROOT, "apps", file), "utf8");
      if (!/\bFastify\(|\bcreateServer\(/.test(text)) continue;
      servers.push(file);
      if (!/\brecordRoutes\(app\)/.test(text)) unrecorded.push(file);
    }
    assert.ok(servers.length >= 2, `the coordinator's and the agent's servers were not found: ${servers.join(", ")}`);
    assert.deepEqual(unrecorded, [], "these files start an HTTP server without recordRoutes(app) first");
  });

  test("without credentials, only the health endpoints answer", async () => {
    for (const [side, app, routes, policy, health] of [
      ["coordinator", coordinator.app, coordinatorRoutes, coordinatorPolicy, ["/healthz", "/readyz", "/", "/api/version"]],
      ["agent", agentServer, agentRoutes, agentPolicy, ["/healthz"]],
    ] as const) {
      const open: string[] = [];
      const answers: string[] = [];
      for (const route of routes) {
        for (const body of ["plausible", "malformed"] as const) {
          const res = await send(app, route, "none", body);
          if (res.statusCode === 401) continue;
          open.push(`${describeRoute(route)} (${body} body)`);
          answers.push(`${describeRoute(route)} (${body} body): ${res.statusCode} ${res.body.slice(0, 200)}`);
        }
      }
      const expected = routes
        .filter((r) => policy(r) === "public")
        .flatMap((r) => [`${describeRoute(r)} (plausible body)`, `${describeRoute(r)} (malformed body)`]);
      assert.deepEqual(open, expected, `${side}: the routes that answer without a credential must be the health endpoints:\n${answers.join("\n")}`);
      const openUrls = new Set(routes.filter((r) => policy(r) === "public").map((r) => r.url));
      assert.deepEqual([...openUrls].sort(), [...health].sort(), `${side}: the public URLs are the health endpoints (and Ollama's probes)`);
    }
  });

  for (const side of ["coordinator", "agent"] as const) {
    test(`every ${side} route refuses, with 401, every credential but its own`, async () => {
      const app = side === "coordinator" ? coordinator.app : agentServer;
      const routes = side === "coordinator" ? coordinatorRoutes : agentRoutes;
      const policyOf = side === "coordinator" ? coordinatorPolicy : agentPolicy;
      const failures: string[] = [];
      let checked = 0;
      for (const route of routes) {
        const policy = policyOf(route);
        if (policy === "public" || policy === undefined) continue;
        for (const credential of CREDENTIALS.filter((c) => !policy.includes(c))) {
          for (const body of ["plausible", "malformed"] as const) {
            const res = await send(app, route, credential, body);
            checked++;
            const where = `${describeRoute(route)} with ${credential} (${body} body)`;
            if (res.statusCode !== 401) failures.push(`${where}: ${res.statusCode} ${res.body.slice(0, 200)}`);
            else if (route.method !== "HEAD") {
              const problem = authErrorProblem(res.body, route.url);
              if (problem !== null) failures.push(`${where}: ${problem}`);
            }
          }
        }
      }
      assert.deepEqual(failures, [], `${side} routes that did not refuse a credential not their own`);
      assert.ok(checked >= (side === "coordinator" ? 200 : 10), `only ${checked} refusals were checked`);
    });
  }

  test("with its own credential a route gets past authentication (a 405 comes after it)", async () => {
    const failures: string[] = [];
    for (const [app, routes, policyOf] of [
      [coordinator.app, coordinatorRoutes, coordinatorPolicy],
      [agentServer, agentRoutes, agentPolicy],
    ] as const) {
      for (const route of routes) {
        const policy = policyOf(route);
        if (policy === "public" || policy === undefined) continue;
        for (const credential of policy) {
          const res = await send(app, route, credential, "plausible");
          if (res.statusCode === 401) failures.push(`${describeRoute(route)} with ${credential}: 401 ${res.body.slice(0, 200)}`);
          if (res.statusCode === 405 && res.headers.allow === undefined) failures.push(`${describeRoute(route)}: 405 without Allow`);
        }
      }
    }
    assert.deepEqual(failures, []);
    // The wrong-method answers run after the credential check, not instead of it.
    const heartbeatGet = await send(coordinator.app, { method: "GET", url: "/cluster/heartbeat" }, "node", "plausible");
    assert.equal(heartbeatGet.statusCode, 405);
    const statusPut = await send(coordinator.app, { method: "PUT", url: "/cluster/status" }, "admin", "plausible");
    assert.equal(statusPut.statusCode, 405);
    const modelsPost = await send(coordinator.app, { method: "POST", url: "/v1/models" }, "client", "plausible");
    assert.equal(modelsPost.statusCode, 405);
  });
});
