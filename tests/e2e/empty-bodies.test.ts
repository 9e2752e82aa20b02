// An empty body sent with `content-type: application/json` (what several HTTP
// clients send on a DELETE or a bodiless POST) is no body where the route
// needs none, and still a 400 invalid_json where it needs one. A real
// coordinator process over loopback HTTP.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { startCoordinator, type FlotillaProcess } from "@flotilla/testkit";

describe("empty JSON bodies", () => {
  let dir: string;
  let coordinator: FlotillaProcess;
  let adminKey: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "flotilla-empty-bodies-"));
    ({ coordinator, adminKey } = await startCoordinator({
      dir,
      label: "empty_bodies",
      heartbeatIntervalMs: 1_000,
      clusterFile: ["nodes:", "  - name: box", "    url: http://127.0.0.1:9", "    kind: openai", "    models: [m]"],
    }));
  });
  after(async () => {
    await coordinator.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const send = (method: string, url: string) =>
    fetch(`${coordinator.url}${url}`, { method, headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" }, body: "" });

  test("routes whose body is optional take an empty one as none", async () => {
    for (const [method, url] of [
      ["POST", "/cluster/nodes/box/drain"],
      ["POST", "/cluster/nodes/box/undrain"],
      ["POST", "/cluster/tokens"],
    ] as const) {
      const res = await send(method, url);
      assert.ok(res.status === 200 || res.status === 201, `${method} ${url}: ${res.status} ${await res.text()}`);
    }
    // An unknown node: the route's own answer, not a complaint about the body.
    const missing = await send("DELETE", "/cluster/nodes/nobody");
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, "not_found");
    // A node of the cluster file: refused for what it is, not for the body.
    const fileNode = await send("DELETE", "/cluster/nodes/box");
    const refusal = (await fileNode.json()) as { error: { code: string; message: string } };
    assert.equal(refusal.error.code, "invalid_request");
    assert.match(refusal.error.message, /declared in the cluster file/);
  });

  test("where a body is needed, an empty one is still 400 invalid_json", async () => {
    for (const url of ["/v1/chat/completions", "/cluster/nodes"]) {
      const res = await send("POST", url);
      assert.equal(res.status, 400, url);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, "invalid_json", url);
    }
  });
});
