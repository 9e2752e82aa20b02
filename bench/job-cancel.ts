// Issue 12, "Measured": cancel of a running job — the time from the client's
// POST /v1/jobs/{id}/cancel until the node has stopped its work. A real
// `flotilla up` serving the test model (llama.cpp, 1 thread) runs a chat job
// that would generate for about six seconds (max_tokens 4096: the context
// ends it first); once /cluster/status shows the generation in flight, the
// bench cancels the job and polls the node's in-flight count every 5 ms until
// it is 0: the llama.cpp sequence has been released. One job at a time, so
// the count belongs to it. A job that ends before its cancel (it should not)
// is not counted, and the row says how many did. Goal (issue 12): ≤ 1 s p95.
import { setTimeout as sleep } from "node:timers/promises";
import { fetchClusterStatus, startFlotilla, testModelPath, TEST_MODEL_ID } from "@flotilla/testkit";
import type { BenchResult, Mode } from "./report.ts";
import { ms, quantile, spread } from "./stats.ts";

const SUITE = "job cancel";
const ROUNDS: Record<Mode, number> = { smoke: 2, quick: 20, full: 60 };
const POLL_MS = 5;

export async function jobCancel(mode: Mode): Promise<BenchResult[]> {
  const fl = await startFlotilla({ args: ["--model", await testModelPath(), "--threads", "1", "--slots", "1"] });
  const latencies: number[] = [];
  let endedFirst = 0;
  try {
    const headers = { "content-type": "application/json", authorization: `Bearer ${fl.adminKey}` };
    const inFlight = async () => (await fetchClusterStatus(fl.url, fl.adminKey)).nodes.reduce((sum, node) => sum + node.inFlight, 0);
    for (let round = 0; round < ROUNDS[mode]; round++) {
      const body = { kind: "chat", input: { model: TEST_MODEL_ID, messages: [{ role: "user", content: `Story ${round}` }], max_tokens: 4096 } };
      const submitted = (await (await fetch(`${fl.url}/v1/jobs`, { method: "POST", headers, body: JSON.stringify(body) })).json()) as { id: string };
      // Running on the node: its generation holds the one slot.
      const deadline = Date.now() + 10_000;
      while ((await inFlight()) === 0) {
        if (Date.now() > deadline) throw new Error(`job ${submitted.id} never reached the node`);
        await sleep(POLL_MS);
      }
      // A little into the answer, as a user's cancel would be.
      await sleep(200);
      const t0 = performance.now();
      const cancelled = (await (await fetch(`${fl.url}/v1/jobs/${submitted.id}/cancel`, { method: "POST", headers })).json()) as { state?: string };
      if (cancelled.state !== "cancelled") {
        endedFirst += 1;
        continue;
      }
      while ((await inFlight()) > 0) await sleep(POLL_MS);
      latencies.push(performance.now() - t0);
    }
  } finally {
    await fl.stop();
  }
  const s = spread(latencies);
  const p95 = latencies.length > 0 ? quantile(latencies, 0.95) : NaN;
  return [
    {
      suite: SUITE,
      name: `cancel of a running chat job (real model, flotilla up) → the node's generation stopped, p50 over ${latencies.length} jobs (${endedFirst} ended before their cancel)`,
      value: ms(s.median),
      range: `${ms(s.min)}–${ms(s.max)}`,
      goal: "",
      met: null,
    },
    { suite: SUITE, name: "the same, p95", value: ms(p95), range: "", goal: "≤ 1 s", met: p95 <= 1000 },
  ];
}
