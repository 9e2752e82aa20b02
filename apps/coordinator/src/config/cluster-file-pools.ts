// The cluster file's pools, templates and roamer settings (issue 17,
// docs/adr/0040). A pool is declared with the kinds of work it takes and the
// templates a roamer lent to it provisions; a template here says what it
// serves and how long it takes to start. How a machine runs a template (the
// model file, the command, the image) is never here: an agent runs a template
// only if its own configuration lists the name with those details.
//
// `release_after` and `expected_start_s` are spelt as the issue names them
// (the rest of the file is camelCase); they are the names people copy.
import { z } from "zod";
import { CAPABILITIES, JOB_KINDS, poolName, ROAMER_POOL, templateName } from "@flotilla/protocol";

/** Kinds a pool may declare: every job kind but `split`, which runs wherever its chunks' pool is. */
export const POOL_KINDS = JOB_KINDS.filter((kind) => kind !== "split");

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Seconds as a number, or a string with a unit ("90s", "5m"); in milliseconds once parsed. */
const durationMs = z
  .union([z.number().min(0).max(86_400), z.string().regex(/^\d+(ms|s|m|h)$/, "a number of seconds or one with a unit: 500ms, 90s, 5m, 1h")])
  .transform((value) => {
    if (typeof value === "number") return Math.round(value * 1000);
    const match = /^(\d+)(ms|s|m|h)$/.exec(value);
    return Number(match?.[1]) * (UNIT_MS[match?.[2] ?? "s"] ?? 1000);
  });

export const DEFAULT_RELEASE_AFTER_MS = 120_000;

export const clusterPool = z.strictObject({
  kinds: z.array(z.enum(POOL_KINDS)).min(1).max(POOL_KINDS.length),
  /** In order of preference: a roamer is lent with the first one it lists. */
  templates: z.array(templateName).max(64).default([]),
  /** A roamer lent "until idle" goes back once the pool left it idle this long. */
  release_after: durationMs.default(DEFAULT_RELEASE_AFTER_MS),
});
export type ClusterPool = z.output<typeof clusterPool>;

export const clusterTemplate = z.strictObject({
  driver: z.enum(["llama", "process", "container", "nomad"]),
  /** The model id it serves, as clients name it. */
  model: z.string().min(1).max(256).optional(),
  capabilities: z.array(z.enum(CAPABILITIES)).min(1).max(CAPABILITIES.length).default(["chat"]),
  /** How long it takes to start, for status and for the autoscaler's patience. */
  expected_start_s: z.number().positive().max(86_400).default(60),
  /** For drivers the coordinator runs itself (nomad); an agent checks its own entry's health. */
  health: z.url({ protocol: /^https?$/ }).max(512).optional(),
  /** For drivers the coordinator runs itself (nomad); never sent to an agent. */
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable's name"), z.string().max(4096)).default({}),
});
export type ClusterTemplate = z.output<typeof clusterTemplate>;

export const roamerSettings = z.strictObject({
  /** Lend and release roamers by the rules (pools/autoscaler.ts); false: only by command. */
  autoscale: z.boolean().default(true),
  intervalMs: z.int().min(100).max(600_000).default(2_000),
  /** Least time between two lends to one pool, but the first and a backup. */
  cooldownMs: z.int().min(0).max(3_600_000).default(30_000),
  maxPerPool: z.int().min(1).max(1_000).default(8),
});
export type RoamerSettings = z.output<typeof roamerSettings>;

export const poolsSection = z.record(poolName, clusterPool).default({});
export const templatesSection = z.record(templateName, clusterTemplate).default({});

/** The checks across sections: a pool's templates exist, and `roamer` is not a pool one declares. */
export function checkPools(
  file: { pools: Record<string, ClusterPool>; templates: Record<string, ClusterTemplate> },
  addIssue: (path: (string | number)[], message: string) => void,
): void {
  for (const [name, pool] of Object.entries(file.pools)) {
    if (name === ROAMER_POOL) addIssue(["pools", name], `"${ROAMER_POOL}" is where idle roamers wait; it takes no work and cannot be declared`);
    pool.templates.forEach((template, i) => {
      if (!(template in file.templates)) addIssue(["pools", name, "templates", i], `no template is named "${template}" under templates`);
    });
  }
}
