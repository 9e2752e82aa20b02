// Standalone, not a suite of `npm run bench` (it records nothing): the
// coordinator's memory while 50 connections each send 3.9 MB of a declared
// 4 MB body to /v1 without credentials, and after they leave. Prints RSS and
// the external (Buffer) memory flotilla's /metrics reports. ADRs 0023, 0033.
//   node bench/slow-body-memory.ts [BODY_BUDGET_BYTES]
// The argument sets maxBodyBytesInFlight (default: the coordinator's own);
// a budget larger than 50 bodies is the budget off, for a side-by-side run.
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { startFlotilla } from "@flotilla/testkit";

const CONNECTIONS = 50;
const SENT_BYTES = 3_900_000;

const budget = process.argv[2];
const coordinator = await startFlotilla({
  command: "coordinator",
  args: ["--discovery", "explicit"],
  ...(budget === undefined ? {} : { env: { FLOTILLA_MAX_BODY_BYTES_IN_FLIGHT: budget } }),
});
const pid = coordinator.child.pid ?? 0;
const rssMb = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) / 1024;
const externalMb = async (): Promise<number> => {
  const text = await (await fetch(`${coordinator.url}/metrics`, { headers: { authorization: `Bearer ${coordinator.adminKey}` } })).text();
  return Number(/^flotilla_nodejs_external_memory_bytes (\d+)/m.exec(text)?.[1]) / 2 ** 20;
};
try {
  // Measuring windows, not synchronisation: memory is read after fixed settling times.
  await sleep(2_000);
  const before = { rssMb: rssMb(), externalMb: await externalMb() };
  const chunk = Buffer.alloc(64 * 1024, "a");
  const sockets: Socket[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const socket = connect(Number(new URL(coordinator.url).port), "127.0.0.1");
    socket.on("error", () => undefined);
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4000000\r\n\r\n`);
    for (let sent = 0; sent < SENT_BYTES; sent += chunk.length) socket.write(chunk);
    sockets.push(socket);
  }
  await sleep(5_000);
  const open = { rssMb: rssMb() };
  for (const socket of sockets) socket.destroy();
  await sleep(18_000);
  const after = { rssMb: rssMb(), externalMb: await externalMb() };
  const round = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v)]));
  process.stdout.write(`${JSON.stringify({ budget: budget ?? "default", before: round(before), whileOpen: round(open), closedPlus18s: round(after) })}\n`);
} finally {
  await coordinator.stop();
}
