// The driver for each kind of template, with what this agent gives it: its
// llama.cpp runtime and model cache for a llama template, its PATH and log
// for a process template, an engine environment for a container template,
// and its environment (where a Nomad ACL token is read) for a nomad template.
import type { Agent } from "../agent.ts";
import type { SharedLlamaRuntime } from "../backends/shared-llama-runtime.ts";
import type { ResolveOptions } from "../models/resolve-model.ts";
import type { DriverFactory } from "./assignment-keeper.ts";
import { ContainerDriver } from "./container-driver.ts";
import { LlamaDriver } from "./llama-driver.ts";
import { NomadDriver } from "./nomad-driver.ts";
import { ProcessDriver } from "./process-driver.ts";
import type { WorkloadLog } from "./workload-driver.ts";

export interface TemplateDriverOptions {
  agent: Pick<Agent, "addBackend" | "removeBackend" | "serves">;
  llama: SharedLlamaRuntime;
  /** The agent's --slots and --context-size, for a llama template that sets none. */
  modelDefaults: { slots: number; contextSize: number };
  /** The model cache (dataDir/models) and the hub. */
  models: Omit<ResolveOptions, "onProgress" | "signal">;
  /** The agent's PATH, passed to programs. */
  path: string | undefined;
  /**
   * The agent's environment; default process.env. A container engine gets HOME and XDG_RUNTIME_DIR
   * from it (a rootless podman's storage and socket), a nomad template the variable its tokenEnv names.
   */
  env?: Readonly<Record<string, string | undefined>>;
  log: WorkloadLog;
}

export function templateDrivers(options: TemplateDriverOptions): DriverFactory {
  const env = options.env ?? process.env;
  return (name, template) => {
    switch (template.driver) {
      case "llama":
        return new LlamaDriver({
          name,
          template,
          agent: options.agent,
          llama: options.llama,
          defaults: options.modelDefaults,
          models: options.models,
          log: options.log,
        });
      case "process":
        return new ProcessDriver({ name, template, path: options.path, log: options.log, agent: options.agent });
      case "container":
        return new ContainerDriver({
          name,
          template,
          engineEnv: { PATH: options.path, HOME: env.HOME, XDG_RUNTIME_DIR: env.XDG_RUNTIME_DIR },
          log: options.log,
        });
      case "nomad":
        return new NomadDriver({ name, template, env, log: options.log });
    }
  };
}
