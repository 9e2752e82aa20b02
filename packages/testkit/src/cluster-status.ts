// Reading /cluster/status straight from the API, and polling it until the
// cluster reaches a state: faster than the CLI, so short states (a node
// that is suspect for a few hundred ms) are not missed.
import { setTimeout as sleep } from "node:timers/promises";

export async function fetchClusterStatus<T>(coordinatorUrl: string, adminKey: string): Promise<T> {
  const res = await fetch(`${coordinatorUrl}/cluster/status`, { headers: { authorization: `Bearer ${adminKey}` } });
  if (res.status !== 200) throw new Error(`GET /cluster/status answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

export async function waitForClusterStatus<T>(
  coordinatorUrl: string,
  adminKey: string,
  what: string,
  check: (status: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetchClusterStatus<T>(coordinatorUrl, adminKey);
    if (check(status)) return status;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(status)}`);
    await sleep(25);
  }
}
