// The gateway benchmarks' setup: one mock upstream and, in front of it, the
// proxies compared side by side — nginx, the Node floor and flotilla (a
// `flotilla coordinator` with the mock added as an agentless node, exactly
// as a user adds one). Every process started here is stopped by stop().
import { runCli, startFlotilla, testAdminKey } from "@flotilla/testkit";
import { ensureNginx, startNginx } from "./nginx.ts";
import { pidOf, startScript, type Started } from "./processes.ts";
import type { Mode } from "./report.ts";

export type VariantName = "direct" | "nginx" | "floor" | "flotilla";

export interface Variant {
  name: VariantName;
  url: string;
  /** The proxy's process (none for direct): its CPU time is read around each run. */
  pid: number | undefined;
}

export interface Rig {
  /** direct first, then the proxies that could be started. */
  variants: Variant[];
  /** Why nginx is missing from `variants`, if it is. */
  nginxMissing: string | undefined;
  chunks: number;
  gapMs: number;
  stop(): Promise<void>;
}

export async function startRig(mode: Mode): Promise<Rig> {
  // The streaming pace of the issue; smoke runs only check the code runs.
  const chunks = mode === "smoke" ? 8 : 64;
  const gapMs = mode === "smoke" ? 5 : 20;
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s();
  };
  try {
    const keep = (p: Started) => (stops.push(() => p.stop()), p);
    const mock = keep(await startScript("mock-upstream.ts", [String(chunks), String(gapMs)]));
    const mockUrl = `http://127.0.0.1:${mock.port}`;
    const variants: Variant[] = [{ name: "direct", url: mockUrl, pid: undefined }];

    const nginx = await ensureNginx(mode);
    if (nginx.ok) {
      const proxy = keep(await startNginx(mock.port));
      variants.push({ name: "nginx", url: `http://127.0.0.1:${proxy.port}`, pid: proxy.pid });
    }
    const floor = keep(await startScript("node-floor.ts", [mockUrl]));
    variants.push({ name: "floor", url: `http://127.0.0.1:${floor.port}`, pid: floor.pid });

    const adminKey = testAdminKey(`bench_${process.pid}_gateway`);
    // Every simulated client comes from 127.0.0.1, each on its own connection: far more
    // than the per-address limit a real client gets (docs/adr/0023).
    const env = { FLOTILLA_ADMIN_KEY: adminKey, FLOTILLA_DISCOVERY: "explicit", FLOTILLA_MAX_CONNECTIONS_PER_IP: "1000000" };
    const coordinator = await startFlotilla({ command: "coordinator", env });
    stops.push(() => coordinator.stop());
    const added = await runCli(["cluster", "add", mockUrl, "--kind", "openai", "--name", "mock"], { ...env, FLOTILLA_URL: coordinator.url });
    if (added.code !== 0) throw new Error(`flotilla cluster add failed: ${added.stderr}`);
    await waitForModels(coordinator.url, ["mock", "mock-paced"]);
    variants.push({ name: "flotilla", url: coordinator.url, pid: pidOf(coordinator.child) });

    return { variants, nginxMissing: nginx.ok ? undefined : nginx.why, chunks, gapMs, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Waits until the gateway serves the models (the node's first health check passed). */
async function waitForModels(url: string, models: string[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const list = (await (await fetch(`${url}/v1/models`)).json()) as { data: Array<{ id: string }> };
    if (models.every((m) => list.data.some((d) => d.id === m))) return;
    if (Date.now() > deadline) throw new Error(`flotilla does not serve ${models.join(", ")}: ${JSON.stringify(list)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
