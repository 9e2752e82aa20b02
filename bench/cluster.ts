// A coordinator with real agents for the suites that need a model: a join
// token straight from the admin API (what `flotilla token create` asks for,
// without starting a CLI process), and waiting until the model is served.
import { setTimeout as sleep } from "node:timers/promises";

export async function joinToken(coordinatorUrl: string, adminKey: string, uses: number): Promise<string> {
  const res = await fetch(`${coordinatorUrl}/cluster/tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ uses }),
  });
  const body = (await res.json()) as { token?: string };
  if (res.status !== 201 || typeof body.token !== "string") throw new Error(`POST /cluster/tokens answered ${res.status}: ${JSON.stringify(body)}`);
  return body.token;
}

/** Waits until /v1/models lists the model (an agent joined and reported it). */
export async function waitForModel(coordinatorUrl: string, adminKey: string, model: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${coordinatorUrl}/v1/models`, { headers: { authorization: `Bearer ${adminKey}` } });
    const list = (await res.json()) as { data?: Array<{ id: string }> };
    if (list.data?.some((m) => m.id === model)) return;
    if (Date.now() > deadline) throw new Error(`flotilla does not serve ${model}: ${JSON.stringify(list)}`);
    await sleep(50);
  }
}
