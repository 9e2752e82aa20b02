// The coordinator's side of lending a roamer, as the agent sees it (issue 17,
// docs/adr/0040). The coordinator sends a template's NAME only
// (`PUT /agent/v1/assignment`); the agent runs a template only if its own
// configuration lists that name, with the local details (the model file, the
// command line, the image) beside it, so nothing a coordinator or a client
// sends can make a node run something its owner did not list. The agent
// reports what its workload is doing in every heartbeat
// (`agentLoad.assignment`), and at once when that changes.
import { z } from "zod";
import { poolName } from "./names.ts";

export const templateName = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, "1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit");
export const assignmentId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "1-64 letters, digits, '_' or '-'");

/** `PUT /agent/v1/assignment`: provision this template for this pool. Idempotent by id. */
export const assignmentRequest = z.strictObject({ id: assignmentId, template: templateName, pool: poolName });
export type AssignmentRequest = z.infer<typeof assignmentRequest>;

/**
 * What an agent's workload is doing:
 *   provisioning ─▶ running ─▶ stopping ─▶ stopped
 *        │            │           ▲
 *        └────────────┴─▶ failed ─┘ (a failed workload is cleaned up when released)
 */
export const WORKLOAD_STATES = ["provisioning", "running", "failed", "stopping", "stopped"] as const;
export const workloadState = z.enum(WORKLOAD_STATES);
export type WorkloadState = z.infer<typeof workloadState>;

/** The agent's report of its assignment: in every heartbeat, and the answer of the assignment routes. */
export const assignmentReport = z.strictObject({
  id: assignmentId,
  template: templateName,
  pool: poolName,
  state: workloadState,
  /** Milliseconds in this state, by the agent's own clock (clocks of two machines differ; a duration does not). */
  stateAgeMs: z.int().min(0).max(2 ** 48),
  /** Provisioning's progress (a model being pulled, loaded), 0–1. */
  progress: z.number().min(0).max(1).optional(),
  /** What it is doing, or why it failed. */
  message: z.string().max(1000).optional(),
});
export type AssignmentReport = z.infer<typeof assignmentReport>;

/** `GET /agent/v1/assignment`, and the answer of PUT and DELETE. */
export const assignmentResponse = z.strictObject({ assignment: assignmentReport.nullable() });
export type AssignmentResponse = z.infer<typeof assignmentResponse>;
