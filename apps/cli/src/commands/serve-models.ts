// Loading the configured models into an agent: shared by `up` and `agent`.
import path from "node:path";
import { pino, type Logger } from "pino";
import { Agent, EspeakNgEngine, loadLlamaCpp, missingSpeechPackages, parseModelSpec, PocketsphinxEngine, resolveModel, sttBackend, ttsBackend } from "@flotilla/agent";
import type { UpConfig } from "../config/up-config.ts";
import { progressPrinter } from "../progress.ts";

export async function createAgentWithModels(config: UpConfig, env: NodeJS.ProcessEnv, logger: Logger): Promise<Agent> {
  // Parse every --model first: a typo fails before anything slow starts.
  const specs = config.models.map(parseModelSpec);
  const agent = new Agent({ maxQueued: config.maxQueued, maxWaitMs: config.queueWaitMs });
  if (config.speech) {
    // Programs from Debian's packages (docs/adr/0039): without them the node would advertise what it cannot do.
    const missing = missingSpeechPackages();
    if (missing.length > 0) throw new Error(`--speech needs the Debian packages ${missing.join(", ")}: apt-get install ${missing.join(" ")}`);
    for (const backend of [ttsBackend(new EspeakNgEngine()), sttBackend(new PocketsphinxEngine())]) {
      agent.addBackend(backend, Date.now());
      logger.info({ model: backend.modelId, capabilities: backend.capabilities }, "speech engine served");
    }
  }
  if (specs.length === 0) return agent;
  const { startLlamaRuntime, loadLlamaModel } = await loadLlamaCpp();
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
  return agent;
}

/** Logs go to stderr: stdout is kept for values a script reads. */
export function stderrLogger(config: UpConfig, role: string): Logger {
  return pino(
    { level: config.logLevel, base: { role, node: config.nodeName }, redact: ["req.headers.authorization", "*.key", "*.token", "*.credential"] },
    pino.destination(2),
  );
}
