// `flotilla up`: coordinator and agent in one process, the agent handed to the
// coordinator as an object (no HTTP hop), one port, the embedded store. Other
// machines can still join it with `flotilla agent`.
// `flotilla coordinator`: the same without the local agent.
// Each starts in stages into one ServiceGroup (local models, then the
// coordinator, then mDNS discovery), which a signal stops in reverse order.
import path from "node:path";
import { detectHardware } from "@flotilla/agent";
import { alreadyOpen, ServiceGroup } from "@flotilla/lifecycle";
import {
  createCoordinator,
  loadClusterFile,
  ADMIN_KEY_FILE,
  MdnsCoordinator,
  type ClusterConfig,
  type Coordinator,
} from "@flotilla/coordinator";
import { recordAdminKeyOrigins } from "@flotilla/coordinator/admin-key";
import { httpLimitsOf, type UpConfig } from "../config/up-config.ts";
import { createAgentWithModels, stderrLogger } from "./serve-models.ts";
import { announcesOnLan, mdnsTransport } from "./mdns-transport.ts";

export async function runUp(config: UpConfig, env: NodeJS.ProcessEnv): Promise<void> {
  const logger = stderrLogger(config, "up");
  // Before the models load: a mistake in the file is reported at once.
  const cluster = await loadCluster(config, env);
  warnOfTemplates(config, logger);
  const services = new ServiceGroup();
  const agent = await createAgentWithModels(config, env, logger);
  // First, so that it stops last: the coordinator may run requests on it until it has closed.
  await services.start([alreadyOpen("local models", () => agent.close())]);
  const { coordinator, address } = await startCoordinator(config, cluster, env, logger, services);
  const hardware = await detectHardware({ modelDir: path.join(config.dataDir, "models") });
  coordinator.local.add(agent, { name: config.nodeName, tier: config.tier, pool: config.pool, hardware });
  onShutdown(logger, () => services.stop());
  const served = agent.load().models.map((m) => m.id);
  const lines = banner(address, config, env);
  if (served.length === 0) {
    lines.push(
      "no model is loaded yet, so /v1 has nothing to serve. Add one by restarting with:",
      "  npx flotilla up --model /path/to/model.gguf",
      "  npx flotilla up --model hf:ggml-org/models/tinyllamas/stories260K.gguf",
    );
  } else {
    lines.push(`serving: ${served.join(", ")}`);
  }
  process.stderr.write(`${lines.join("\n")}\n`);
}

export async function runCoordinator(config: UpConfig, env: NodeJS.ProcessEnv): Promise<void> {
  const logger = stderrLogger(config, "coordinator");
  const services = new ServiceGroup();
  warnOfTemplates(config, logger);
  const { address } = await startCoordinator(config, await loadCluster(config, env), env, logger, services);
  onShutdown(logger, () => services.stop());
  const lines = banner(address, config, env);
  lines.push("no local models: machines join with `flotilla agent --join URL --token-file FILE`, FILE holding a token from `flotilla token create`");
  process.stderr.write(`${lines.join("\n")}\n`);
}

/** Templates are run by roamers (`flotilla agent --pool roamer`); listed here they would silently do nothing. */
function warnOfTemplates(config: UpConfig, logger: ReturnType<typeof stderrLogger>): void {
  const names = Object.keys(config.templates);
  if (names.length > 0) logger.warn({ templates: names }, "templates in this config file are ignored: only `flotilla agent` provisions templates, as a roamer (docs/adr/0040)");
}

interface Started {
  coordinator: Coordinator;
  address: string;
}

async function loadCluster(config: UpConfig, env: NodeJS.ProcessEnv): Promise<ClusterConfig | undefined> {
  if (config.clusterFile === undefined) return undefined;
  return loadClusterFile(config.clusterFile, env);
}

async function startCoordinator(
  config: UpConfig,
  cluster: ClusterConfig | undefined,
  env: NodeJS.ProcessEnv,
  logger: ReturnType<typeof stderrLogger>,
  services: ServiceGroup,
): Promise<Started> {
  /** Announcing on the LAN and listing agents seen there (discovery: mdns); built once the port is known. */
  let discovery: MdnsCoordinator | undefined;
  const coordinator = await createCoordinator({
    dataDir: config.dataDir,
    adminKeyFromEnv: env.FLOTILLA_ADMIN_KEY,
    metricsKey: env.FLOTILLA_METRICS_KEY?.trim() || undefined,
    bodyLimitBytes: config.bodyLimitBytes,
    ...httpLimitsOf(config),
    maxTokensLimit: config.maxTokensLimit,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    conversationTtlMs: config.conversationTtl,
    jobs: { ...(config.queue === "embedded" ? {} : { queueUrl: config.queue }), concurrency: config.jobConcurrency },
    // The file's list, default included, when there is a file: its nodes
    // were checked against it, so the coordinator must call with the same.
    allowedNetworks: cluster?.allowedNetworks ?? config.allowedNetworks,
    clusterNodes: cluster?.nodes,
    agents: cluster?.agents,
    ...(cluster ? { pools: { pools: cluster.pools, templates: cluster.templates, roamers: cluster.roamers } } : {}),
    // `cluster add` may name only the variables the file's nodes may.
    ...(cluster ? { apiKeyEnvPrefixes: cluster.apiKeyEnvPrefixes } : {}),
    // The busy queue: --max-queued and --queue-wait-ms bound it, unless the
    // cluster file's routing.queue says otherwise.
    routing: { ...cluster?.routing, queue: { maxDepth: config.maxQueued, maxWaitMs: config.queueWaitMs, ...cluster?.routing.queue } },
    env,
    discovered: () => discovery?.discovered() ?? [],
    logger,
  });
  const address = await coordinator.app.listen({ host: config.host, port: config.port });
  // Where the admin key in the data directory may be sent: the CLI sends it nowhere else.
  await recordAdminKeyOrigins(config.dataDir, config.host, Number(new URL(address).port));
  if (announcesOnLan(config)) {
    discovery = new MdnsCoordinator({
      name: config.nodeName,
      port: Number(new URL(address).port),
      mdns: mdnsTransport(config),
      // Discovery is a convenience: a LAN without multicast must not stop the coordinator.
      onError: (err) => logger.warn({ err: err.message }, "mDNS discovery failed; agents need --join"),
    });
  }
  await services.start([alreadyOpen("coordinator", () => coordinator.close()), ...(discovery ? [discovery] : [])]);
  return { coordinator, address };
}

function banner(address: string, config: UpConfig, env: NodeJS.ProcessEnv): string[] {
  const adminKeySource = env.FLOTILLA_ADMIN_KEY ? "FLOTILLA_ADMIN_KEY" : path.join(config.dataDir, ADMIN_KEY_FILE);
  return [`flotilla is up at ${address}  (OpenAI API: ${address}/v1)`, `admin key: ${adminKeySource}`];
}

/** SIGINT/SIGTERM: finish cleanly once; a second signal is ignored while closing. */
export function onShutdown(logger: ReturnType<typeof stderrLogger>, close: () => Promise<void>): void {
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, "shutting down");
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  // `on`, not `once`: node-llama-cpp, imported later (a template provisioned
  // after start), brings signal-exit, which re-raises a signal once no other
  // listener is left, killing the process halfway through this shutdown.
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}
