// Pools and roamers in the cluster API (issue 17, docs/adr/0040): what
// `GET /cluster/pools` and `/cluster/roamers` answer and what
// `POST /cluster/roamers/{name}/assign` takes. A roamer is an agent in the
// `roamer` pool that takes no work until the coordinator lends it to a pool.
import { z } from "zod";
import { nodeName, poolName } from "./names.ts";
import { nodeHealth } from "./cluster-api.ts";
import { templateName } from "./assignment.ts";

/** The pool an agent joins to be lent: it takes no work until a pool borrows it. */
export const ROAMER_POOL = "roamer";

/**
 * The roamer's lifecycle as the coordinator keeps it (pools/roamer-state.ts):
 *   IDLE ─▶ ASSIGNED ─▶ PROVISIONING ─▶ RUNNING ─▶ CLEANUP ─▶ IDLE
 */
export const ROAMER_STATES = ["IDLE", "ASSIGNED", "PROVISIONING", "RUNNING", "CLEANUP"] as const;
export const roamerState = z.enum(ROAMER_STATES);
export type RoamerState = z.infer<typeof roamerState>;

/** How long a lent roamer stays: until its pool leaves it idle, a fixed time, or until an operator releases it. */
export const roamerDuration = z.union([z.literal("until-idle"), z.literal("manual"), z.strictObject({ minutes: z.int().min(1).max(10_080) })]);
export type RoamerDuration = z.infer<typeof roamerDuration>;

/** `POST /cluster/roamers/{name}/assign`: the pool (with its first template the roamer accepts), or a template (with the pool it serves). */
export const assignRoamerRequest = z
  .strictObject({ pool: poolName.optional(), template: templateName.optional(), duration: roamerDuration.default("until-idle") })
  .refine((body) => body.pool !== undefined || body.template !== undefined, { message: "name a pool or a template", path: ["pool"] });
export type AssignRoamerRequest = z.infer<typeof assignRoamerRequest>;

const count = z.int().min(0);

/** A roamer as `GET /cluster/roamers` shows it. Like the rest of the cluster API, unknown keys are dropped, not refused. */
export const roamerView = z.object({
  name: nodeName,
  state: roamerState,
  stateAgeMs: count,
  health: nodeHealth,
  /** The templates its own configuration lists: what it can be lent for. */
  templates: z.array(templateName),
  pool: poolName.nullable(),
  template: templateName.nullable(),
  duration: roamerDuration.nullable(),
  assignedBy: z.enum(["autoscaler", "operator"]).nullable(),
  /** Why the autoscaler lent it (overflow, burst, backup), or "operator". */
  reason: z.string().nullable(),
  /** Since it was lent; null while IDLE. */
  lentForMs: count.nullable(),
  /** What went wrong last (a refused template, a failed provisioning), kept until the next assignment. */
  lastError: z.string().nullable(),
  /** Its last states, oldest first, each with when it entered it (epoch ms): the roamer seen moving. */
  history: z.array(z.object({ state: roamerState, atMs: count })),
});
export type RoamerView = z.infer<typeof roamerView>;

export const roamersResponse = z.object({ roamers: z.array(roamerView) });
export type RoamersResponse = z.infer<typeof roamersResponse>;

/** A pool as `GET /cluster/pools` shows it. */
export const poolView = z.object({
  name: poolName,
  /** Declared in the cluster file; an undeclared pool is only a label its nodes carry. */
  declared: z.boolean(),
  kinds: z.array(z.string()),
  templates: z.array(templateName),
  /** Nodes that take work for it now (its own and lent roamers), and of those its own. */
  workers: z.object({ total: count, ready: count, busy: count, dedicated: count, dedicatedReady: count }),
  roamers: z.array(nodeName),
  demand: z.object({ queuedJobs: count, runningJobs: count, waitingRequests: count }),
});
export type PoolView = z.infer<typeof poolView>;

export const poolsResponse = z.object({ pools: z.array(poolView) });
export type PoolsResponse = z.infer<typeof poolsResponse>;
