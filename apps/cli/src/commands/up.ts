// `flotilla up`: coordinator and agent in one process, the agent handed to the
// coordinator as an object (no HTTP hop), one port, the embedded store. Other
// machines can still join it with `flotilla agent`.
// `flotilla coordinator`: the same without the local agent.
import path from "node:path";
import { detectHardware } from "@flotilla/agent";
import { createCoordinator, ADMIN_KEY_FILE, LocalNode, type Coordinator } from "@flotilla/coordinator";
import type { UpConfig } from "../config/up-config.ts";
import { createAgentWithModels, stderrLogger } from "./serve-models.ts";

export async function runUp(config: UpConfig, env: NodeJS.ProcessEnv): Promise<void> {
  const logger = stderrLogger(config, "up");
  const agent = await createAgentWithModels(config, env, logger);
  const coordinator = await startCoordinator(config, env, logger);
  const hardware = await detectHardware({ modelDir: path.join(config.dataDir, "models") });
  coordinator.registry.add(new LocalNode(agent, { name: config.nodeName, tier: config.tier, pool: config.pool, hardware }));
  onShutdown(logger, async () => {
    await coordinator.close();
    await agent.close();
  });
  const address = await coordinator.app.listen({ host: config.host, port: config.port });
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
  const coordinator = await startCoordinator(config, env, logger);
  onShutdown(logger, () => coordinator.close());
  const address = await coordinator.app.listen({ host: config.host, port: config.port });
  const lines = banner(address, config, env);
  lines.push("no local models: machines join with `flotilla agent --join URL --token $(flotilla token create)`");
  process.stderr.write(`${lines.join("\n")}\n`);
}

function startCoordinator(config: UpConfig, env: NodeJS.ProcessEnv, logger: ReturnType<typeof stderrLogger>): Promise<Coordinator> {
  return createCoordinator({
    dataDir: config.dataDir,
    adminKeyFromEnv: env.FLOTILLA_ADMIN_KEY,
    bodyLimitBytes: config.bodyLimitBytes,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    allowedNetworks: config.allowedNetworks,
    logger,
  });
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
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}
