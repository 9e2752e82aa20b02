// Loading the configured models into an agent: shared by `up` and `agent`.
import path from "node:path";
import { pino, type Logger } from "pino";
import {
  Agent,
  AssignmentKeeper,
  EspeakNgEngine,
  loadLlamaCpp,
  missingSpeechPackages,
  parseModelSpec,
  PocketsphinxEngine,
  resolveModel,
  SharedLlamaRuntime,
  sttBackend,
  templateDrivers,
  ttsBackend,
} from "@flotilla/agent";
import type { UpConfig } from "../config/up-config.ts";
import { progressPrinter } from "../progress.ts";

/** The agent's one llama.cpp runtime, started by its first model: a --model flag, or a llama template when one is assigned. */
export function llamaRuntimeFor(config: UpConfig, logger: Logger): SharedLlamaRuntime {
  return new SharedLlamaRuntime({ gpu: config.gpu, threads: config.threads }, (llama) =>
    logger.info({ gpu: llama.gpu, threads: config.threads }, "llama.cpp ready"),
  );
}

export async function createAgentWithModels(
  config: UpConfig,
  env: NodeJS.ProcessEnv,
  logger: Logger,
  llama: SharedLlamaRuntime = llamaRuntimeFor(config, logger),
): Promise<Agent> {
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
  const { loadLlamaModel } = await loadLlamaCpp();
  const runtime = await llama.get();
  for (const spec of specs) {
    const file = await resolveModel(spec.source, {
      cacheDir: path.join(config.dataDir, "models"),
      hfEndpoint: config.hfEndpoint,
      hfToken: env.HF_TOKEN,
      onProgress: progressPrinter(),
    });
    const load = () =>
      loadLlamaModel(runtime, {
        modelId: spec.id,
        path: file,
        parallelSequences: config.slots,
        contextSize: config.contextSize,
        threads: config.threads,
      });
    const backend = await load();
    // --keep-alive: unloaded when idle that long, loaded again when a request asks (issue 17).
    const reload =
      config.keepAlive === "forever"
        ? undefined
        : {
            keepAliveMs: config.keepAlive,
            load: async () => {
              const loaded = await load();
              logger.info({ model: spec.id }, "model loaded again on demand");
              return loaded;
            },
          };
    agent.addBackend(backend, Date.now(), reload);
    logger.info({ model: spec.id, file, slots: config.slots, contextSize: backend.contextSize, keepAlive: config.keepAlive }, "model loaded");
  }
  return agent;
}

/**
 * What a coordinator may lend this agent for: the templates of its config
 * file, run on this agent (its models, its llama.cpp runtime, its PATH). Its
 * templates and assignment go out in the agent's load reports from here on.
 */
export function assignmentKeeperFor(
  config: UpConfig,
  env: NodeJS.ProcessEnv,
  logger: Logger,
  agent: Agent,
  llama: SharedLlamaRuntime,
  /** The coordinator's model store, for templates whose source is `store:NAME` (docs/adr/0042); known once joined. */
  store?: () => { url: string; credential: string } | undefined,
): AssignmentKeeper {
  const keeper = new AssignmentKeeper({
    templates: config.templates,
    log: logger,
    createDriver: templateDrivers({
      agent,
      llama,
      modelDefaults: { slots: config.slots, contextSize: config.contextSize },
      models: { cacheDir: path.join(config.dataDir, "models"), hfEndpoint: config.hfEndpoint, hfToken: env.HF_TOKEN, ...(store ? { store } : {}) },
      path: env.PATH,
      log: logger,
    }),
  });
  agent.attachAssignments(keeper);
  return keeper;
}

/** Logs go to stderr: stdout is kept for values a script reads. */
export function stderrLogger(config: UpConfig, role: string): Logger {
  return pino(
    { level: config.logLevel, base: { role, node: config.nodeName }, redact: ["req.headers.authorization", "*.key", "*.token", "*.credential"] },
    pino.destination(2),
  );
}
