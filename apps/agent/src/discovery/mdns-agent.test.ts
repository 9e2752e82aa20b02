// Real mDNS on loopback: the peers are bonjour-service itself (no mocks),
// on 127.0.0.1 and a private UDP port so that nothing leaves the machine and
// test files running side by side do not hear each other.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Bonjour } from "bonjour-service";
import { DISCOVERY_PROTOCOL_VERSION, type MdnsTransportOptions } from "@flotilla/protocol";
import { CoordinatorNotFound, MdnsAgent, findCoordinator, preferredAddress } from "./mdns-agent.ts";
import { freeUdpPort } from "@flotilla/testkit";

async function loopback(): Promise<MdnsTransportOptions> {
  return { interface: "127.0.0.1", bind: "0.0.0.0", port: await freeUdpPort() };
}

/** A raw bonjour-service peer announcing `_flotilla._tcp` with any TXT. */
function announce(mdns: MdnsTransportOptions, name: string, port: number, txt: Record<string, string>): Bonjour {
  const peer = new Bonjour({ ...mdns });
  peer.publish({ name, type: "flotilla", port, txt });
  return peer;
}

async function destroy(peer: Bonjour): Promise<void> {
  await new Promise<void>((resolve) => peer.unpublishAll(() => resolve()));
  await new Promise<void>((resolve) => peer.destroy(() => resolve()));
}

test("preferredAddress: the answer's source first, IPv4 over IPv6, no link-local", () => {
  const referer = (address: string, family: "IPv4" | "IPv6") => ({ address, family, port: 5353, size: 1 });
  assert.equal(preferredAddress({ referer: referer("10.0.0.5", "IPv4"), addresses: ["10.0.0.6"] }), "10.0.0.5");
  assert.equal(preferredAddress({ referer: referer("fd00::5", "IPv6"), addresses: ["fd00::5", "10.0.0.6"] }), "10.0.0.6");
  assert.equal(preferredAddress({ addresses: ["fe80::1", "fd00::7"] }), "[fd00::7]");
  assert.equal(preferredAddress({ addresses: ["fe80::1", "not an address"] }), undefined);
  assert.equal(preferredAddress({}), undefined);
});

describe("findCoordinator on loopback multicast", () => {
  let mdns: MdnsTransportOptions;
  const peers: Bonjour[] = [];

  before(async () => {
    mdns = await loopback();
  });
  after(async () => {
    await Promise.all(peers.map(destroy));
  });

  test("skips malformed and incompatible announcements and finds the valid coordinator", async () => {
    peers.push(
      announce(mdns, "bad-port", 7001, { v: DISCOVERY_PROTOCOL_VERSION, role: "coordinator", name: "bad-port", port: "nope" }),
      announce(mdns, "wrong-role", 7002, { v: DISCOVERY_PROTOCOL_VERSION, role: "agent", name: "wrong-role", port: "7002" }),
      announce(mdns, "lying-port", 7003, { v: DISCOVERY_PROTOCOL_VERSION, role: "coordinator", name: "lying-port", port: "9999" }),
      announce(mdns, "future", 7004, { v: "99", role: "coordinator", name: "future", port: "7004" }),
    );
    // They are heard (the incompatible one is named) and none is taken.
    await assert.rejects(findCoordinator({ timeoutMs: 2000, mdns }), (error: unknown) => {
      assert.ok(error instanceof CoordinatorNotFound);
      assert.match(error.message, /"future" v99/);
      return true;
    });
    peers.push(announce(mdns, "lab-coordinator", 7005, { v: DISCOVERY_PROTOCOL_VERSION, role: "coordinator", name: "lab-coordinator", port: "7005" }));

    const agent = new MdnsAgent({ name: "finder", port: 7100, mdns });
    try {
      const started = Date.now();
      const found = await agent.findCoordinator({ timeoutMs: 5000 });
      assert.deepEqual(found, { url: "http://127.0.0.1:7005", name: "lab-coordinator" });
      assert.ok(Date.now() - started < 5000);
    } finally {
      await agent.stop();
    }
  });
});

describe("findCoordinator when none answers", () => {
  test("rejects after the timeout with a message that says what to do", async () => {
    const mdns = await loopback();
    const peer = announce(mdns, "old", 7201, { v: "99", role: "coordinator", name: "old", port: "7201" });
    try {
      await assert.rejects(findCoordinator({ timeoutMs: 2000, mdns }), (error: unknown) => {
        assert.ok(error instanceof CoordinatorNotFound);
        assert.match(error.message, /^no flotilla coordinator found on the LAN within 2000 ms; pass --join URL/);
        assert.match(error.message, /"old" v99/);
        return true;
      });
    } finally {
      await destroy(peer);
    }
  });

  test("an abort signal ends the search with its reason", async () => {
    const controller = new AbortController();
    const agent = new MdnsAgent({ name: "aborted", port: 7300, mdns: await loopback() });
    setTimeout(() => controller.abort(new Error("user pressed ctrl-c")), 100);
    await assert.rejects(agent.findCoordinator({ timeoutMs: 10_000, signal: controller.signal }), /user pressed ctrl-c/);
    await agent.stop();
  });

  test("stop() ends a search in flight", async () => {
    const agent = new MdnsAgent({ name: "stopped", port: 7400, mdns: await loopback() });
    const search = agent.findCoordinator({ timeoutMs: 10_000 });
    await agent.stop();
    await assert.rejects(search, /mDNS discovery stopped/);
  });

  test("a socket that cannot be bound is reported, not thrown at the process", async () => {
    const errors: Error[] = [];
    // 203.0.113.0/24 is TEST-NET-3: not an address of this machine.
    const mdns = { ...(await loopback()), bind: "203.0.113.123" };
    const agent = new MdnsAgent({ name: "unbound", port: 7500, mdns, onError: (e) => errors.push(e) });
    await assert.rejects(agent.findCoordinator({ timeoutMs: 5000 }), /mDNS discovery unavailable: .*EADDRNOTAVAIL/);
    agent.start();
    await agent.stop();
    assert.ok(errors.length >= 1);
  });
});
