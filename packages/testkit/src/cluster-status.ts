// Reading /cluster/status straight from the API, and polling it until the
// cluster reaches a state: faster than the CLI, so short states (a node
// that is suspect for a few hundred ms) are not missed. Parsed with the
// schema the CLI uses, so every e2e poll also checks that the coordinator
// answers what the schema says.
import { setTimeout as sleep } from "node:timers/promises";
import { clusterStatusResponse, formatParam, type ClusterStatusResponse } from "@flotilla/protocol";

export async function fetchClusterStatus(coordinatorUrl: string, adminKey: string): Promise<ClusterStatusResponse> {
  const res = await fetch(`${coordinatorUrl}/cluster/status`, { headers: { authorization: `Bearer ${adminKey}` } });
  if (res.status !== 200) throw new Error(`GET /cluster/status answered ${res.status}: ${await res.text()}`);
  const body: unknown = await res.json();
  const parsed = clusterStatusResponse.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`GET /cluster/status does not match its schema at ${formatParam(issue?.path ?? []) || "the top"}: ${issue?.message}\n${JSON.stringify(body)}`);
  }
  return parsed.data;
}

export async function waitForClusterStatus(
  coordinatorUrl: string,
  adminKey: string,
  what: string,
  check: (status: ClusterStatusResponse) => boolean,
  timeoutMs = 10_000,
): Promise<ClusterStatusResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetchClusterStatus(coordinatorUrl, adminKey);
    if (check(status)) return status;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(status)}`);
    await sleep(25);
  }
}
