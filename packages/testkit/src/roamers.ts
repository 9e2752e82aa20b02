// Reading a roamer from `GET /cluster/roamers`, and polling it until it
// reaches a state: parsed with the schema the CLI uses, like cluster-status.ts.
import { setTimeout as sleep } from "node:timers/promises";
import { roamersResponse, type RoamerView } from "@flotilla/protocol";

export async function fetchRoamer(coordinatorUrl: string, adminKey: string, name: string): Promise<RoamerView> {
  const res = await fetch(`${coordinatorUrl}/cluster/roamers`, { headers: { authorization: `Bearer ${adminKey}` } });
  if (res.status !== 200) throw new Error(`GET /cluster/roamers answered ${res.status}: ${await res.text()}`);
  const body: unknown = await res.json();
  const found = roamersResponse.parse(body).roamers.find((r) => r.name === name);
  if (found === undefined) throw new Error(`no roamer ${name} in ${JSON.stringify(body)}`);
  return found;
}

/** Polls the roamer until `check` holds; the condition is the synchronisation, the poll only its pace. */
export async function waitForRoamer(
  coordinatorUrl: string,
  adminKey: string,
  name: string,
  what: string,
  check: (view: RoamerView) => boolean,
  timeoutMs = 30_000,
): Promise<RoamerView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await fetchRoamer(coordinatorUrl, adminKey, name);
    if (check(view)) return view;
    if (Date.now() > deadline) throw new Error(`timed out waiting for roamer ${name} ${what}: ${JSON.stringify(view)}`);
    await sleep(25);
  }
}
