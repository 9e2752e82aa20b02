// `flotilla cluster status|drain|undrain|remove`: thin calls to the cluster API.
import {
  clusterStatusResponse,
  drainResponse,
  noContent,
  presentedNode,
  type NodeKind,
  slotsOf,
  type CircuitViewBody,
  type ClusterStatusResponse,
  type PresentedNode,
} from "@flotilla/protocol";
import { adminAnswer, adminRequest, type ClientTarget } from "../client.ts";
import { table } from "../table.ts";
import { printable } from "../printable.ts";

export async function clusterStatus(target: ClientTarget, env: NodeJS.ProcessEnv, json: boolean): Promise<string> {
  const { data: status, json: answer } = await adminAnswer(target, env, "GET", "/cluster/status", clusterStatusResponse);
  if (json) return `${JSON.stringify(answer, null, 2)}\n`;
  const rows = status.nodes.map((n) => [
    n.name,
    String(n.tier),
    // A roamer shows where it is lent: roamer→brain, or roamer while idle.
    n.servesPool !== undefined && n.servesPool !== null && n.servesPool !== n.pool ? `${n.pool}→${n.servesPool}` : n.pool,
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
    `, ${status.queue.depth}/${status.queue.maxDepth} waiting in the busy queue` +
    "\n" +
    problemLines(status.nodes) +
    limitLines(status.nodes) +
    discoveredLines(status.discovered)
  );
}

/** Why a node is not ready, where the coordinator knows: a state alone says nothing of the cure. */
function problemLines(nodes: readonly PresentedNode[]): string {
  return nodes.flatMap((n) => (n.error === undefined ? [] : [`${printable(`${n.name}: ${n.error}`)}\n`])).join("");
}

/** What the coordinator did not believe of a node's report: why it serves less than it says. */
function limitLines(nodes: readonly PresentedNode[]): string {
  return nodes.flatMap((n) => (n.limits ?? []).map((line) => `${printable(`${n.name}: ${line}`)}\n`)).join("");
}

function discoveredLines(discovered: ClusterStatusResponse["discovered"]): string {
  if (discovered.length === 0) return "";
  const rows = discovered.map((a) => [a.name, a.addresses.map((ip) => `${ip}:${a.port}`).join(" "), `${(a.lastSeenAgoMs / 1000).toFixed(0)}s`]);
  return (
    "\ndiscovered on the LAN, not joined (give each a token from `flotilla token create`):\n" +
    table(["NAME", "ADDRESS", "SEEN"], rows)
  );
}

/**
 * First token / total, averaged over recent requests (see the coordinator's
 * nodes/latency.ts). Whole milliseconds: the averages move more than that
 * between requests. `-` before any request succeeded.
 */
function latencySummary(node: PresentedNode): string {
  const l = node.latency;
  if (l.samples === 0 || l.firstTokenMs === null || l.totalMs === null) return "-";
  return `${Math.round(l.firstTokenMs)}ms/${Math.round(l.totalMs)}ms`;
}

/** Why a node may be skipped: its circuit, with the ejection time left while open. */
function circuitSummary(circuit: CircuitViewBody): string {
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
    const text = await clusterStatus(target, env, false).catch((err: unknown) => `${printable(err instanceof Error ? err.message : String(err))}\n`);
    process.stdout.write(`\x1b[2J\x1b[H${new Date().toISOString()}\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export async function setDrain(target: ClientTarget, env: NodeJS.ProcessEnv, name: string, drained: boolean): Promise<void> {
  await adminRequest(target, env, "POST", `/cluster/nodes/${encodeURIComponent(name)}/${drained ? "drain" : "undrain"}`, drainResponse);
  process.stderr.write(drained ? `${name} is draining: no new work; work in flight finishes\n` : `${name} takes new work again\n`);
}

export async function removeNode(target: ClientTarget, env: NodeJS.ProcessEnv, name: string): Promise<void> {
  const path = `/cluster/nodes/${encodeURIComponent(name)}`;
  // Asked first: how a node comes back depends on what it was.
  const node = await adminRequest(target, env, "GET", path, presentedNode);
  await adminRequest(target, env, "DELETE", path, noContent);
  process.stderr.write(`${printable(removedText(name, node.kind, node.url))}\n`);
}

/** What `cluster remove` says, by the kind of node removed: only an agent ever held a join token. */
export function removedText(name: string, kind: NodeKind, url: string | null): string {
  switch (kind) {
    case "agent":
      return `${name} removed (its agent needs a new join token to come back)`;
    case "openai":
    case "ollama":
      return `${name} removed (an agentless server: \`flotilla cluster add ${url ?? "URL"} --kind ${kind}\` adds it again)`;
    case "local":
      return `${name} removed (this coordinator's own models: they come back when it restarts)`;
  }
}
