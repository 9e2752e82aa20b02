// `flotilla roamers list|assign|release` and `flotilla pools`: the seed's
// "Assign roamer" dialog and pool cards on a terminal, thin calls to the
// cluster API (issue 17, docs/adr/0040).
import { InvalidArgumentError, Option, type Command } from "commander";
import type { z } from "zod";
import { nodeName, poolName, poolsResponse, roamersResponse, roamerView, templateName, type RoamerDuration, type RoamerView } from "@flotilla/protocol";
import { adminAnswer, adminRequest, type ClientTarget } from "../client.ts";
import { table } from "../table.ts";
import { printable } from "../printable.ts";
import { parsePositiveInt } from "../option-parsers.ts";

interface ClientFlags {
  url?: string;
  dataDir?: string;
}

export interface RoamerCommandContext {
  withClientFlags: (command: Command) => Command;
  targetOf: (flags: ClientFlags) => ClientTarget;
  env: NodeJS.ProcessEnv;
}

interface AssignFlags extends ClientFlags {
  pool?: string;
  template?: string;
  minutes?: number;
  manual?: boolean;
  json?: boolean;
}

/** Checked here, with the coordinator's own schemas, so a typo is a usage error rather than a 400. */
const checked = (schema: z.ZodString, what: string) => (text: string) => {
  const parsed = schema.safeParse(text);
  if (!parsed.success) throw new InvalidArgumentError(`not a ${what}: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  return parsed.data;
};

export function defineRoamerCommands(program: Command, context: RoamerCommandContext): void {
  const { withClientFlags, targetOf, env } = context;
  const roamers = program.command("roamers").description("agents in the roamer pool, lent to busy pools: list, assign, release");

  withClientFlags(roamers.command("list").description("every roamer: its state and for how long, the pool it is lent to, and why"))
    .option("--json", "machine-readable output")
    .action(async (flags: ClientFlags & { json?: boolean }) => {
      const { data, json } = await adminAnswer(targetOf(flags), env, "GET", "/cluster/roamers", roamersResponse);
      process.stdout.write(flags.json === true ? `${JSON.stringify(json, null, 2)}\n` : roamerTable(data.roamers));
    });

  withClientFlags(roamers.command("assign").description("lend a roamer to a pool (with its first template the roamer lists) or for a template").argument("<name>", "the roamer", checked(nodeName, "node name")))
    .option("--pool <pool>", "the pool to lend it to", checked(poolName, "pool name"))
    .option("--template <template>", "the template to provision (default: the pool's first one the roamer lists)", checked(templateName, "template name"))
    .addOption(new Option("--minutes <n>", "give it back after this many minutes").argParser(parsePositiveInt).conflicts("manual"))
    .option("--manual", "keep it until `flotilla roamers release` (default: until the pool leaves it idle)")
    .option("--json", "machine-readable output")
    .action(async (name: string, flags: AssignFlags) => {
      if (flags.pool === undefined && flags.template === undefined) throw new InvalidArgumentError("name a --pool or a --template");
      const duration: RoamerDuration = flags.manual === true ? "manual" : flags.minutes !== undefined ? { minutes: flags.minutes } : "until-idle";
      const body = { ...(flags.pool === undefined ? {} : { pool: flags.pool }), ...(flags.template === undefined ? {} : { template: flags.template }), duration };
      const view = await adminRequest(targetOf(flags), env, "POST", `/cluster/roamers/${encodeURIComponent(name)}/assign`, roamerView, body);
      process.stdout.write(flags.json === true ? `${JSON.stringify(view, null, 2)}\n` : `${printable(`${view.name} ${view.state}: lent to ${view.pool ?? "?"} with ${view.template ?? "?"} (${durationText(view.duration)})`)}\n`);
    });

  withClientFlags(roamers.command("release").description("give a lent roamer back: it cleans up and goes IDLE").argument("<name>", "the roamer", checked(nodeName, "node name")))
    .action(async (name: string, flags: ClientFlags) => {
      const view = await adminRequest(targetOf(flags), env, "POST", `/cluster/roamers/${encodeURIComponent(name)}/release`, roamerView);
      process.stdout.write(`${printable(`${view.name} ${view.state}`)}\n`);
    });

  withClientFlags(program.command("pools").description("every pool: its workers (own and lent), busy ones, queued jobs and waiting requests"))
    .option("--json", "machine-readable output")
    .action(async (flags: ClientFlags & { json?: boolean }) => {
      const { data, json } = await adminAnswer(targetOf(flags), env, "GET", "/cluster/pools", poolsResponse);
      if (flags.json === true) {
        process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
        return;
      }
      const rows = data.pools.map((pool) => [
        pool.name + (pool.declared ? "" : " (label)"),
        pool.kinds.join(",") || "-",
        `${pool.workers.busy}/${pool.workers.ready}`,
        `${pool.workers.dedicatedReady}/${pool.workers.dedicated}`,
        pool.roamers.join(",") || "-",
        String(pool.demand.queuedJobs),
        String(pool.demand.runningJobs),
        String(pool.demand.waitingRequests),
      ]);
      process.stdout.write(table(["POOL", "KINDS", "BUSY/READY", "OWN READY", "ROAMERS", "QUEUED", "RUNNING", "WAITING"], rows));
    });
}

function roamerTable(roamers: readonly RoamerView[]): string {
  if (roamers.length === 0) return "no roamers: join an agent with --pool roamer\n";
  const rows = roamers.map((r) => [
    r.name,
    r.state,
    seconds(r.stateAgeMs),
    r.pool ?? "-",
    r.template ?? "-",
    r.reason ?? "-",
    r.lentForMs === null ? "-" : seconds(r.lentForMs),
    durationText(r.duration),
    r.health,
    r.templates.join(",") || "-",
  ]);
  const errors = roamers.flatMap((r) => (r.lastError === null ? [] : [`${printable(`${r.name}: ${r.lastError}`)}\n`]));
  return table(["NAME", "STATE", "FOR", "POOL", "TEMPLATE", "WHY", "LENT", "UNTIL", "HEALTH", "TEMPLATES"], rows) + errors.join("");
}

function durationText(duration: RoamerDuration | null): string {
  if (duration === null) return "-";
  if (typeof duration === "string") return duration;
  return `${duration.minutes} min`;
}

function seconds(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}
