export { Agent, DEFAULT_DRAIN_MS, type AssignmentSource, type QueueOptions } from "./agent.ts";
export type { InferenceBackend } from "./backends/backend.ts";
export type { GpuChoice } from "./backends/llama-cpp.ts";
import type * as LlamaCpp from "./backends/llama-cpp.ts";
/**
 * node-llama-cpp costs ~45 MB of resident memory once imported, so it is
 * loaded only when a model is actually served (an idle agent stays small).
 */
export function loadLlamaCpp(): Promise<typeof LlamaCpp> {
  return import("./backends/llama-cpp.ts");
}
export { SharedLlamaRuntime } from "./backends/shared-llama-runtime.ts";
export { AssignmentKeeper, type AssignmentKeeperOptions, type DriverFactory } from "./workloads/assignment-keeper.ts";
export { templateDrivers, type TemplateDriverOptions } from "./workloads/template-drivers.ts";
export { LlamaDriver, type LlamaDriverOptions } from "./workloads/llama-driver.ts";
export { ProcessDriver, type ProcessDriverOptions } from "./workloads/process-driver.ts";
export type { WorkloadDriver, WorkloadDriverKind, WorkloadLog } from "./workloads/workload-driver.ts";
export { workloadTemplates, type LlamaTemplate, type ProcessTemplate, type WorkloadTemplate, type WorkloadTemplates } from "./workloads/template-config.ts";
export { parseModelSpec, parseModelSource, type ModelSpec, type ModelSource } from "./models/model-spec.ts";
export { resolveModel, type DownloadProgress, type ResolveOptions } from "./models/resolve-model.ts";
export { buildAgentServer } from "./server/agent-server.ts";
export { loadCredentials, saveCredentials, type SavedCredentials } from "./cluster/credentials.ts";
export { join, CoordinatorRefused } from "./cluster/coordinator-client.ts";
export { HeartbeatLoop } from "./cluster/heartbeat-loop.ts";
export { detectHardware, type DetectOptions } from "./hardware/detect.ts";
export { MdnsAgent, findCoordinator, CoordinatorNotFound, type FoundCoordinator } from "./discovery/mdns-agent.ts";
export { HardwareWatch } from "./hardware/hardware-watch.ts";
export { ttsBackend, sttBackend } from "./speech/speech-backend.ts";
export { EspeakNgEngine } from "./speech/espeak-ng-engine.ts";
export { PocketsphinxEngine } from "./speech/pocketsphinx-engine.ts";
export { missingSpeechPackages } from "./speech/speech-packages.ts";
