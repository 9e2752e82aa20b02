import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AGENT_SERVICE_TYPE,
  COORDINATOR_SERVICE_TYPE,
  DISCOVERY_PROTOCOL_VERSION,
  encodeDiscoveryTxt,
  parseDiscoveryTxt,
} from "./discovery.ts";
import { PROTOCOL_VERSION } from "./version.ts";

test("service types are the DNS-SD names", () => {
  assert.equal(COORDINATOR_SERVICE_TYPE, "_flotilla._tcp");
  assert.equal(AGENT_SERVICE_TYPE, "_flotilla-agent._tcp");
});

test("an encoded TXT record parses back", () => {
  const txt = encodeDiscoveryTxt({ role: "coordinator", name: "lab-1", port: 8080 });
  assert.deepEqual(txt, { v: String(PROTOCOL_VERSION), role: "coordinator", name: "lab-1", port: "8080" });
  assert.deepEqual(parseDiscoveryTxt(txt), { v: DISCOVERY_PROTOCOL_VERSION, role: "coordinator", name: "lab-1", port: 8080 });
});

test("unknown TXT keys from a later version are dropped, not refused", () => {
  const parsed = parseDiscoveryTxt({ v: "7", role: "agent", name: "n1", port: "1", gpu: "a100" });
  assert.deepEqual(parsed, { v: "7", role: "agent", name: "n1", port: 1 });
});

test("malformed TXT records are rejected without throwing", () => {
  const good = { v: "1", role: "agent", name: "node-1", port: "9000" };
  const malformed: unknown[] = [
    undefined,
    null,
    "v=1",
    [],
    {},
    { ...good, v: undefined },
    { ...good, v: "one" },
    { ...good, v: "" },
    { ...good, role: "admin" },
    { ...good, role: "Agent" },
    { ...good, name: "" },
    { ...good, name: "has space" },
    { ...good, name: "-leading-dash" },
    { ...good, name: "x".repeat(64) },
    { ...good, name: "évil" },
    { ...good, port: undefined },
    { ...good, port: "0" },
    { ...good, port: "65536" },
    { ...good, port: "080" },
    { ...good, port: "80a" },
    { ...good, port: " 80" },
    { ...good, port: 80 },
    { ...good, port: true },
    { ...good, name: Buffer.from("node-1") },
  ];
  assert.ok(parseDiscoveryTxt(good));
  for (const txt of malformed) {
    assert.equal(parseDiscoveryTxt(txt), null, `accepted ${JSON.stringify(txt)}`);
  }
});
