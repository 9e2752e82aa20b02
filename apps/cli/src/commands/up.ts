// `flotilla up`: coordinator and agent in one process, the agent handed to the
// coordinator as an object (no HTTP hop), one port, the embedded store.
import path from "node:path";
import { pino } from "pino";
import { Agent, loadLlamaModel, parseModelSpec, resolveModel, startLlamaRuntime } from "@flotilla/agent";
import { createCoordinator, ADMIN_KEY_FILE } from "@flotilla/coordinator";
import type { UpConfig } from "../config/up-config.ts";
import { progressPrinter } from "../progress.ts";

export async function runUp(config: UpConfig, env: NodeJS.ProcessEnv): Promise<void> {
  // Logs go to stderr: stdout is kept for values a script reads.
  const logger = pino(
    { level: config.logLevel, base: { node: config.nodeName }, redact: ["req.headers.authorization", "*.key", "*.token"] },
    pino.destination(2),
  );
  const specs = config.models.map(parseModelSpec);
  const agent = new Agent(config.nodeName, { maxQueued: config.maxQueued, maxWaitMs: config.queueWaitMs });
  const coordinator = await createCoordinator({
    dataDir: config.dataDir,
    adminKeyFromEnv: env.FLOTILLA_ADMIN_KEY,
    bodyLimitBytes: config.bodyLimitBytes,
    logger,
  });

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, "shutting down");
    await coordinator.close();
    await agent.close();
    process.exit(0);
  };
  process.once("SIGINT", () => void shutdown("SIGINT"));
  process.once("SIGTERM", () => void shutdown("SIGTERM"));

  if (specs.length > 0) {
    const llama = await startLlamaRuntime({ gpu: config.gpu, threads: config.threads });
    logger.info({ gpu: llama.gpu, threads: config.threads }, "llama.cpp ready");
    for (const spec of specs) {
      const file = await resolveModel(spec.source, {
        cacheDir: path.join(config.dataDir, "models"),
        hfEndpoint: config.hfEndpoint,
        hfToken: env.HF_TOKEN,
        onProgress: progressPrinter(),
      });
      const backend = await loadLlamaModel(llama, {
        modelId: spec.id,
        path: file,
        parallelSequences: config.slots,
        contextSize: config.contextSize,
        threads: config.threads,
      });
      agent.addBackend(backend, Date.now());
      logger.info({ model: spec.id, file, slots: config.slots, contextSize: backend.contextSize }, "model loaded");
    }
  }
  coordinator.registry.add(agent);

  const address = await coordinator.app.listen({ host: config.host, port: config.port });
  const adminKeySource = env.FLOTILLA_ADMIN_KEY ? "FLOTILLA_ADMIN_KEY" : path.join(config.dataDir, ADMIN_KEY_FILE);
  const lines = [
    `flotilla is up at ${address}  (OpenAI API: ${address}/v1)`,
    `admin key: ${adminKeySource}`,
  ];
  if (specs.length === 0) {
    lines.push(
      "no model is loaded yet, so /v1 has nothing to serve. Add one by restarting with:",
      "  npx flotilla up --model /path/to/model.gguf",
      "  npx flotilla up --model hf:ggml-org/models/tinyllamas/stories260K.gguf",
    );
  } else {
    lines.push(`serving: ${specs.map((s) => s.id).join(", ")}`);
  }
  process.stderr.write(`${lines.join("\n")}\n`);
}
