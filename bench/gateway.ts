// The gateway suites of issue 5 (items 1 and 2) on one rig: a zero-delay
// mock upstream with nginx, the Node floor and flotilla in front of it.
import type { BenchResult, Mode } from "./report.ts";
import { gatewayLatency } from "./gateway-latency.ts";
import { gatewayStreaming } from "./gateway-streaming.ts";
import { startRig } from "./rig.ts";

export async function gateway(mode: Mode): Promise<BenchResult[]> {
  const rig = await startRig(mode);
  try {
    return [...(await gatewayLatency(rig, mode)), ...(await gatewayStreaming(rig, mode))];
  } finally {
    await rig.stop();
  }
}
