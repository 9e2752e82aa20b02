// A `flotilla coordinator` process with a cluster file of the test's own,
// its own admin key, a free port and its data under `dir`: the set-up every
// multi-node test and benchmark starts from.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { startFlotilla, type FlotillaProcess } from "./flotilla-process.ts";
import { freePort } from "./ports.ts";
import { testAdminKey } from "./admin-key.ts";

export interface CoordinatorSetup {
  /** A folder the caller owns and removes: the cluster file and the data go in it. */
  dir: string;
  /** The cluster file's lines (YAML). */
  clusterFile: string[];
  heartbeatIntervalMs: number;
  /** Names the admin key, so a leaked process is recognisable. */
  label: string;
  env?: Record<string, string>;
  /** More flags for `flotilla coordinator`. */
  args?: string[];
}

export async function startCoordinator(setup: CoordinatorSetup): Promise<{ coordinator: FlotillaProcess; adminKey: string }> {
  const port = await freePort();
  const adminKey = testAdminKey(`${setup.label}_${port}`);
  const clusterFile = path.join(setup.dir, "cluster.yaml");
  await writeFile(clusterFile, [...setup.clusterFile, ""].join("\n"));
  const coordinator = await startFlotilla({
    command: "coordinator",
    port,
    dataDir: path.join(setup.dir, "coordinator"),
    env: { FLOTILLA_ADMIN_KEY: adminKey, ...setup.env },
    args: ["--heartbeat-interval-ms", String(setup.heartbeatIntervalMs), "--cluster-file", clusterFile, ...(setup.args ?? [])],
  });
  return { coordinator, adminKey };
}
