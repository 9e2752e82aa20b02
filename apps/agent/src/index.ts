export { Agent, type QueueOptions } from "./agent.ts";
export type { InferenceBackend } from "./backends/backend.ts";
export { startLlamaRuntime, loadLlamaModel, type GpuChoice } from "./backends/llama-cpp.ts";
export { parseModelSpec, type ModelSpec, type ModelSource } from "./models/model-spec.ts";
export { resolveModel, type DownloadProgress, type ResolveOptions } from "./models/resolve-model.ts";
