// An inference backend serves one model, for the workloads its capabilities
// name. The agent admits requests through a SlotPool before calling it, so a
// backend may assume that at most `parallelSequences` workloads run at once.
import type { Capability, RunOptions, Workload, WorkloadResult } from "@flotilla/protocol";

export interface InferenceBackend {
  readonly modelId: string;
  readonly contextSize: number;
  readonly parallelSequences: number;
  readonly capabilities: readonly Capability[];
  /** Called only with workloads whose capability is listed (the agent checks). */
  run(workload: Workload, options: RunOptions): Promise<WorkloadResult>;
  dispose(): Promise<void>;
}
