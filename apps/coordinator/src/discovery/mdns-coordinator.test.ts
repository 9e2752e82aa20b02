// Real mDNS on loopback, no mocks: the coordinator's announcer and browser
// against the agent's, in one process, on 127.0.0.1 and a private UDP port so
// that nothing leaves the machine and test files do not hear each other.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { Bonjour } from "bonjour-service";
import { DISCOVERY_PROTOCOL_VERSION, type MdnsTransportOptions } from "@flotilla/protocol";
import { MdnsAgent } from "../../../agent/src/discovery/mdns-agent.ts";
import { MdnsCoordinator, type DiscoveredAgent } from "./mdns-coordinator.ts";

async function loopback(): Promise<MdnsTransportOptions> {
  const socket = createSocket("udp4");
  socket.bind(0, "127.0.0.1");
  await once(socket, "listening");
  const { port } = socket.address();
  socket.close();
  return { interface: "127.0.0.1", bind: "0.0.0.0", port };
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test("an agent finds the coordinator, and the coordinator lists the agent", async () => {
  const mdns = await loopback();
  let now = 1_000_000;
  const errors: Error[] = [];
  const coordinator = new MdnsCoordinator({
    name: "lab-coordinator",
    port: 8787,
    mdns,
    refreshMs: 60_000,
    now: () => now,
    onError: (e) => errors.push(e),
  });
  const agent = new MdnsAgent({ name: "desk-3", port: 8788, mdns, onError: (e) => errors.push(e) });
  // Announcements anyone on the LAN could send: the coordinator must ignore them.
  const stranger = new Bonjour({ ...mdns });
  stranger.publish({ name: "no-txt", type: "flotilla-agent", port: 9001 });
  stranger.publish({ name: "bad-name", type: "flotilla-agent", port: 9002, txt: { v: DISCOVERY_PROTOCOL_VERSION, role: "agent", name: "bad name!", port: "9002" } });
  stranger.publish({ name: "not-agent", type: "flotilla-agent", port: 9003, txt: { v: DISCOVERY_PROTOCOL_VERSION, role: "coordinator", name: "not-agent", port: "9003" } });
  stranger.publish({ name: "old-agent", type: "flotilla-agent", port: 9004, txt: { v: "0", role: "agent", name: "old-agent", port: "9004" } });
  try {
    coordinator.start();
    const started = Date.now();
    const found = await agent.findCoordinator({ timeoutMs: 5000 });
    assert.deepEqual(found, { url: "http://127.0.0.1:8787", name: "lab-coordinator" });
    assert.ok(Date.now() - started < 5000);

    agent.start();
    const listed = await waitFor("desk-3 in the discovered list", () =>
      coordinator.discovered().find((a) => a.name === "desk-3"),
    );
    assert.deepEqual(listed, {
      name: "desk-3",
      addresses: listed.addresses,
      port: 8788,
      protocolVersion: DISCOVERY_PROTOCOL_VERSION,
      lastSeenMs: now,
    } satisfies DiscoveredAgent);
    assert.equal(listed.addresses[0], "127.0.0.1");

    // The well-formed agent of another protocol version is listed (it can be
    // told why it cannot join); the malformed ones are not.
    await waitFor("old-agent in the discovered list", () => coordinator.discovered().find((a) => a.name === "old-agent"));
    assert.deepEqual(coordinator.discovered().map((a) => a.name), ["desk-3", "old-agent"]);

    // An agent that says goodbye leaves the list at once.
    await agent.stop();
    await waitFor("desk-3 gone", () => (coordinator.discovered().some((a) => a.name === "desk-3") ? undefined : true));

    // One that goes silent expires.
    now += 3 * 60_000 + 1;
    assert.deepEqual(coordinator.discovered(), []);
    assert.deepEqual(errors, []);
  } finally {
    await agent.stop();
    await coordinator.stop();
    await new Promise<void>((resolve) => stranger.unpublishAll(() => resolve()));
    await new Promise<void>((resolve) => stranger.destroy(() => resolve()));
  }
  assert.deepEqual(coordinator.discovered(), []);
});

test("after stop() nothing keeps the process alive", async () => {
  const mdns = await loopback();
  const script = `
    import { MdnsCoordinator } from ${JSON.stringify(import.meta.resolve("./mdns-coordinator.ts"))};
    import { MdnsAgent } from ${JSON.stringify(import.meta.resolve("../../../agent/src/discovery/mdns-agent.ts"))};
    const mdns = ${JSON.stringify(mdns)};
    const coordinator = new MdnsCoordinator({ name: "exit-coordinator", port: 4100, mdns });
    const agent = new MdnsAgent({ name: "exit-agent", port: 4101, mdns });
    coordinator.start();
    agent.start();
    const found = await agent.findCoordinator({ timeoutMs: 5000 });
    while (!coordinator.discovered().some((a) => a.name === "exit-agent")) await new Promise((r) => setTimeout(r, 50));
    await agent.stop();
    await coordinator.stop();
    console.log(JSON.stringify(found));
  `;
  const child = spawn(process.execPath, ["--input-type=module", "--eval", script], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  const [code, signal] = (await once(child, "exit")) as [number | null, NodeJS.Signals | null];
  clearTimeout(killer);
  assert.equal(signal, null, `the process did not exit by itself after stop():\n${output}`);
  assert.equal(code, 0, output);
  assert.deepEqual(JSON.parse(output.trim()), { url: "http://127.0.0.1:4100", name: "exit-coordinator" });
});
