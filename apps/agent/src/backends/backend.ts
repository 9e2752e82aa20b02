// An inference backend serves one model, for the workloads its capabilities
// name. The agent admits requests through a SlotPool before calling it, so a
// backend may assume that at most `parallelSequences` workloads run at once.
import type { Capability, RunOptions, Workload, WorkloadResult } from "@flotilla/protocol";
import type { ModelFacts } from "./model-details.ts";

export interface InferenceBackend {
  readonly modelId: string;
  readonly contextSize: number;
  readonly parallelSequences: number;
  readonly capabilities: readonly Capability[];
  /** What the model file is (Ollama's details and /api/show), where the backend knows its file. */
  readonly facts?: ModelFacts | undefined;
  /** Called only with workloads whose capability is listed (the agent checks). */
  run(workload: Workload, options: RunOptions): Promise<WorkloadResult>;
  dispose(): Promise<void>;
}
