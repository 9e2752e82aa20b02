// mDNS discovery between real processes. The announcements stay on loopback
// and on a private UDP port (FLOTILLA_MDNS_INTERFACE / FLOTILLA_MDNS_PORT), so
// nothing reaches the LAN and parallel test files do not hear each other.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { freeUdpPort, runCli, testAdminKey, startFlotilla, waitForClusterStatus, type FlotillaProcess } from "@flotilla/testkit";

interface Status {
  nodes: Array<{ name: string; state: string }>;
  discovered: Array<{ name: string; addresses: string[]; port: number }>;
}

describe("discovery: mdns", () => {
  let mdnsEnv: Record<string, string>;
  let adminEnv: Record<string, string>;
  let coordinator: FlotillaProcess;
  const agents: FlotillaProcess[] = [];

  const waitFor = (what: string, check: (s: Status) => boolean) =>
    waitForClusterStatus(coordinator.url, coordinator.adminKey, what, check, 15_000);

  before(async () => {
    mdnsEnv = { FLOTILLA_MDNS_INTERFACE: "127.0.0.1", FLOTILLA_MDNS_PORT: String(await freeUdpPort()), FLOTILLA_HEARTBEAT_INTERVAL_MS: "500" };
    coordinator = await startFlotilla({ command: "coordinator", env: { ...mdnsEnv, FLOTILLA_ADMIN_KEY: testAdminKey("discovery") } });
    adminEnv = { FLOTILLA_ADMIN_KEY: coordinator.adminKey, FLOTILLA_URL: coordinator.url };
  });
  after(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await coordinator.stop();
  });

  test("an agent started without --join finds the coordinator and joins with its token", async () => {
    const token = await runCli(["token", "create"], adminEnv);
    assert.equal(token.code, 0, token.stderr);
    const agent = await startFlotilla({ command: "agent", env: mdnsEnv, args: ["--name", "found-by-mdns", "--token", token.stdout.trim()] });
    agents.push(agent);
    assert.match(agent.stderr(), /found coordinator \S+ at http:\/\/127\.0\.0\.1:\d+/);
    await waitFor("found-by-mdns ready", (s) => s.nodes.some((n) => n.name === "found-by-mdns" && n.state === "ready"));
  });

  test("an agent without a token is listed as discovered, not joined, and is not trusted", async () => {
    const agent = await startFlotilla({ command: "agent", env: mdnsEnv, args: ["--name", "stranger"] });
    agents.push(agent);
    assert.match(agent.stderr(), /not a member yet/);
    const s = await waitFor("stranger discovered", (x) => x.discovered.some((a) => a.name === "stranger"));
    assert.equal(s.nodes.some((n) => n.name === "stranger"), false, "a discovered agent is not a node");
    // A joined agent is a node, not "discovered".
    assert.equal(s.discovered.some((a) => a.name === "found-by-mdns"), false);
    const stranger = s.discovered.find((a) => a.name === "stranger");
    assert.equal(stranger?.port, Number(new URL(agent.url).port));
    const table = await runCli(["cluster", "status"], adminEnv);
    assert.match(table.stdout, /discovered on the LAN, not joined[\s\S]*stranger/);
  });
});
