// `flotilla cluster status|drain|undrain|remove`: thin calls to the cluster API.
import { slotsOf, type NodeStatus } from "@flotilla/protocol";
import { adminRequest, type ClientTarget } from "../client.ts";
import { table } from "../table.ts";

interface CircuitView {
  state: "closed" | "open" | "half-open";
  consecutiveFailures: number;
  ejectionLeftMs: number;
}

/** Fields after `state` are optional so that an older coordinator, which does not send them, still lists. */
type PresentedNode = NodeStatus & { state: string; circuit?: CircuitView; dispatched?: number };

interface StatusBody {
  nodes: PresentedNode[];
  totals: { nodes: number; ready: number; slots: number; inFlight: number };
  queue?: { depth: number; maxDepth: number };
  discovered: Array<{ name: string; addresses: string[]; port: number; lastSeenAgoMs: number }>;
}

export async function clusterStatus(target: ClientTarget, env: NodeJS.ProcessEnv, json: boolean): Promise<string> {
  const status = (await adminRequest(target, env, "GET", "/cluster/status")) as StatusBody;
  if (json) return `${JSON.stringify(status, null, 2)}\n`;
  const rows = status.nodes.map((n) => [
    n.name,
    String(n.tier),
    n.pool,
    hardwareSummary(n),
    n.models.map((m) => m.id).join(",") || "-",
    n.state,
    `${n.inFlight}/${slotsOf(n)}`,
    n.lastSeenAgoMs === null ? "local" : `${(n.lastSeenAgoMs / 1000).toFixed(1)}s`,
    latencySummary(n),
    circuitSummary(n.circuit),
  ]);
  const t = status.totals;
  return (
    table(["NAME", "TIER", "POOL", "HARDWARE", "MODELS", "STATE", "LOAD", "HEARTBEAT", "LATENCY", "CIRCUIT"], rows) +
    `${t.ready}/${t.nodes} nodes ready, ${t.inFlight} requests in flight, ${t.slots} slots` +
    (status.queue ? `, ${status.queue.depth}/${status.queue.maxDepth} waiting in the busy queue` : "") +
    "\n" +
    discoveredLines(status.discovered)
  );
}

function discoveredLines(discovered: StatusBody["discovered"]): string {
  if (discovered.length === 0) return "";
  const rows = discovered.map((a) => [a.name, a.addresses.map((ip) => `${ip}:${a.port}`).join(" "), `${(a.lastSeenAgoMs / 1000).toFixed(0)}s`]);
  return (
    "\ndiscovered on the LAN, not joined (give each a token from `flotilla token create`):\n" +
    table(["NAME", "ADDRESS", "SEEN"], rows)
  );
}

/**
 * First token / total, averaged over recent requests (see the coordinator's
 * registry/latency.ts). Whole milliseconds: the averages move more than that
 * between requests. `-` before any request succeeded; `latency` is optional
 * here only so an older coordinator, which does not send it, still lists.
 */
function latencySummary(node: PresentedNode): string {
  const l = (node as Partial<PresentedNode>).latency;
  if (!l || l.samples === 0 || l.firstTokenMs === null || l.totalMs === null) return "-";
  return `${Math.round(l.firstTokenMs)}ms/${Math.round(l.totalMs)}ms`;
}

/** Why a node may be skipped: its circuit, with the ejection time left while open. */
function circuitSummary(circuit: CircuitView | undefined): string {
  if (!circuit) return "-";
  switch (circuit.state) {
    case "closed":
      return circuit.consecutiveFailures === 0 ? "closed" : `closed (${circuit.consecutiveFailures} failed)`;
    case "open":
      return `open ${(circuit.ejectionLeftMs / 1000).toFixed(1)}s`;
    case "half-open":
      return "half-open";
  }
}

function hardwareSummary(node: PresentedNode): string {
  const h = node.hardware;
  // An agentless node's hardware is unknown; what it runs is worth showing.
  if (node.kind === "openai" || node.kind === "ollama") return `${node.kind} server`;
  if (!h) return "?";
  const gib = (bytes: number) => `${Math.round(bytes / 2 ** 30)}G`;
  const gpu = h.gpus[0];
  const accel = gpu ? ` ${gpu.model}${gpu.memoryTotalBytes ? ` ${gib(gpu.memoryTotalBytes)}` : ""}` : "";
  return `${h.hardwareType} ${h.cpu.logicalCores}c ${gib(h.memory.totalBytes)}${accel}`;
}

export async function watchStatus(target: ClientTarget, env: NodeJS.ProcessEnv, intervalMs: number): Promise<never> {
  for (;;) {
    const text = await clusterStatus(target, env, false).catch((err: unknown) => `${(err as Error).message}\n`);
    process.stdout.write(`\x1b[2J\x1b[H${new Date().toISOString()}\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export async function setDrain(target: ClientTarget, env: NodeJS.ProcessEnv, name: string, drained: boolean): Promise<void> {
  await adminRequest(target, env, "POST", `/cluster/nodes/${encodeURIComponent(name)}/${drained ? "drain" : "undrain"}`);
  process.stderr.write(drained ? `${name} is draining: no new work; work in flight finishes\n` : `${name} takes new work again\n`);
}

export async function removeNode(target: ClientTarget, env: NodeJS.ProcessEnv, name: string): Promise<void> {
  await adminRequest(target, env, "DELETE", `/cluster/nodes/${encodeURIComponent(name)}`);
  process.stderr.write(`${name} removed (an agent needs a new join token to come back)\n`);
}
