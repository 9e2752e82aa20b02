// An inference backend serves one model. The agent admits requests through a
// SlotPool before calling it, so a backend may assume that at most
// `parallelSequences` generations run at once.
import type { GenerateOptions, GenerationRequest, GenerationResult } from "@flotilla/protocol";

export interface InferenceBackend {
  readonly modelId: string;
  readonly contextSize: number;
  readonly parallelSequences: number;
  generate(request: GenerationRequest, options: GenerateOptions): Promise<GenerationResult>;
  dispose(): Promise<void>;
}
