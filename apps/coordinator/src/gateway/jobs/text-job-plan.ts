// How a text job runs: its stored /v1 body becomes the same workload, route
// hints and rendering as the direct request would (translate.ts), so a job's
// result is byte for byte the shape /v1 answers. The runner (jobs/job-runner.ts)
// calls this; it lives in gateway/ because the wire format is decided here.
import { randomUUID } from "node:crypto";
import {
  chatCompletionRequest,
  completionRequest,
  embeddingCreateRequest,
  embeddingResultOf,
  generationResultOf,
  isTextJobKind,
} from "@flotilla/protocol";
import type { Job } from "../../jobs/job.ts";
import type { PlannedJob } from "../../jobs/job-runner.ts";
import type { DispatchResult } from "../../dispatch/types.ts";
import { chatCompletion, chatToGeneration, completionToGeneration, embeddingList, embeddingToWorkload, textCompletion, usageOf } from "../translate.ts";
import { routeHints } from "../route-hints.ts";
import { validateJobInput } from "./job-inputs.ts";

export interface TextJobPlanOptions {
  maxTokensLimit: number;
  /** routing.continueOnFailure: a job is resumed on another node when its node dies mid-answer. */
  continueOnFailure: boolean;
  nowMs: () => number;
}

/** Jobs have no headers: the body's own hints (prefer_tier, user) are all there is. */
const NO_HEADERS = {};

export function planTextJob(job: Job, options: TextJobPlanOptions): PlannedJob {
  const kind = job.kind;
  if (!isTextJobKind(kind)) throw new Error(`planTextJob was given a ${kind} job`);
  // Checked at submit; checked again because a job may outlive a release that changed the schema.
  validateJobInput(kind, job.input);
  const identity = (prefix: string, model: string) => ({
    id: prefix + randomUUID().replaceAll("-", ""),
    created: Math.floor(options.nowMs() / 1000),
    model,
  });
  switch (kind) {
    case "chat": {
      const body = chatCompletionRequest.parse(job.input);
      const workload = chatToGeneration(body, options.maxTokensLimit);
      return {
        request: { workload, hints: routeHints(body, NO_HEADERS), continueOnFailure: body.continue_on_failure ?? options.continueOnFailure },
        maxTokens: workload.params.maxTokens ?? null,
        render: (answer: DispatchResult) => chatCompletion(identity("chatcmpl-", answer.decision.model), generationResultOf(answer.result)),
      };
    }
    case "completion": {
      const body = completionRequest.parse(job.input);
      const workload = completionToGeneration(body, options.maxTokensLimit);
      const echo = body.echo === true && workload.input.kind === "completion" ? workload.input.prompt : "";
      return {
        request: { workload, hints: routeHints(body, NO_HEADERS), continueOnFailure: body.continue_on_failure ?? options.continueOnFailure },
        maxTokens: workload.params.maxTokens ?? null,
        render: (answer: DispatchResult) => {
          const result = generationResultOf(answer.result);
          return textCompletion(identity("cmpl-", answer.decision.model), echo + result.text, result.finishReason, usageOf(result));
        },
      };
    }
    case "embedding": {
      const body = embeddingCreateRequest.parse(job.input);
      return {
        request: { workload: embeddingToWorkload(body), hints: routeHints(body, NO_HEADERS), continueOnFailure: false },
        maxTokens: null,
        render: (answer: DispatchResult) => embeddingList(answer.decision.model, embeddingResultOf(answer.result), body.encoding_format ?? "float"),
      };
    }
  }
}
