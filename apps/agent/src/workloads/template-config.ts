// The templates an agent's owner lists in its configuration file: the only
// workloads a coordinator can ask it to run (by name, docs/adr/0040). The
// schema lives with the agent, which runs them; `flotilla agent`'s config
// file takes it under `templates`. Exported on its own (@flotilla/agent/templates)
// so that reading a config file does not load the agent's server or llama.cpp.
import path from "node:path";
import { z } from "zod";
import { CAPABILITIES, templateName } from "@flotilla/protocol";
import { isModelId, MODEL_ID_RULE, parseModelSource } from "../models/model-spec.ts";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LOOPBACK_HOSTS = new Set(["localhost", "[::1]"]);
/** Arguments a template passes to a program: each a whole argument, never split or given to a shell. */
const argv = z.array(z.string().min(1).max(4_096)).max(256);
const envRecord = z.record(z.string().regex(ENV_NAME, "an environment variable's name: letters, digits and '_'"), z.string());

/** A model served by the agent's own llama.cpp, as `--model` serves one. */
export const llamaTemplate = z.strictObject({
  driver: z.literal("llama"),
  /** The id it is served as. */
  model: z.string().refine(isModelId, `must be ${MODEL_ID_RULE}`),
  /**
   * A GGUF path (an NFS mount too: used where it is), hf:owner/repo/file.gguf[@revision], or
   * store:NAME / store:sha256:HEX from the coordinator's model store (docs/adr/0042); the last
   * two are downloaded into the data directory's models/ once, with resume, and verified.
   */
  source: z.string().min(1).superRefine((ref, ctx) => {
    try {
      parseModelSource(ref);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: err instanceof Error ? err.message : String(err) });
    }
  }),
  /** Parallel sequences; default the agent's --slots. */
  slots: z.int().min(1).max(256).optional(),
  /** Tokens per sequence; default the agent's --context-size. */
  contextSize: z.int().min(64).max(1_048_576).optional(),
});
export type LlamaTemplate = z.infer<typeof llamaTemplate>;

/** What a served program's model can be asked for: generation (chat, json, tools) and embeddings; speech is not served this way yet. */
const SERVABLE = new Set<string>(["chat", "json", "tools", "embed"]);

/** A model the program serves, as the agent serves it (its id, what it does, its window and slots). */
const servedModel = z.strictObject({
  /** The id it is served as by this agent. */
  id: z.string().refine(isModelId, `must be ${MODEL_ID_RULE}`),
  capabilities: z
    .array(z.enum(CAPABILITIES))
    .min(1)
    .max(CAPABILITIES.length)
    .default(["chat"])
    .superRefine((caps, ctx) => {
      caps.forEach((cap, i) => {
        if (!SERVABLE.has(cap)) ctx.addIssue({ code: "custom", path: [i], message: `"${cap}" is not served from a program yet (chat, json, tools and embed are)` });
      });
      if (new Set(caps).size !== caps.length) ctx.addIssue({ code: "custom", message: "lists a capability twice" });
    }),
  /** Tokens per sequence, as the program was started with; reported to the coordinator. */
  contextSize: z.int().min(64).max(1_048_576).default(4_096),
  /** Requests the agent lets run on the program at once; more wait in the agent's queue. */
  slots: z.int().min(1).max(256).default(1),
  /** The `model` sent to the program; default the id. */
  upstreamModel: z.string().min(1).max(256).optional(),
});
export type ServedProgramModel = z.infer<typeof servedModel>;

/** The program's OpenAI-compatible API, whose models the agent serves as its own once the program is healthy. */
const serveSection = z.strictObject({
  /** Its base URL, with or without /v1; on loopback, as the program is this machine's own. */
  url: z.url({ protocol: /^https?$/ }).refine(isLoopbackUrl, "must be a loopback URL (127.0.0.0/8, [::1] or localhost)"),
  models: z
    .array(servedModel)
    .min(1)
    .max(64)
    .superRefine((models, ctx) => {
      const seen = new Set<string>();
      models.forEach((m, i) => {
        if (seen.has(m.id)) ctx.addIssue({ code: "custom", path: [i, "id"], message: `"${m.id}" is listed twice` });
        seen.add(m.id);
      });
    }),
});
export type ServeSection = z.infer<typeof serveSection>;

/** A program the agent starts and supervises: argv (never a shell), checked through an HTTP health URL on this machine. */
export const processTemplate = z.strictObject({
  driver: z.literal("process"),
  command: z
    .array(z.string().min(1))
    .min(1, "must name at least the program")
    .superRefine((argv, ctx) => {
      const program = argv[0];
      if (program !== undefined && !path.isAbsolute(program)) ctx.addIssue({ code: "custom", path: [0], message: "the program must be an absolute path" });
    }),
  /** Its whole environment besides PATH: nothing else of the agent's (its credentials, HF_TOKEN) is passed on. */
  env: envRecord.optional(),
  cwd: z.string().refine((p) => path.isAbsolute(p), "must be an absolute path").optional(),
  /** Answers 2xx once the program serves; on loopback, as the program is this machine's own. */
  health: z.url({ protocol: /^https?$/ }).refine(isLoopbackUrl, "must be a loopback URL (127.0.0.0/8, [::1] or localhost)"),
  startTimeoutMs: z.int().min(100).max(3_600_000).default(60_000),
  /** Restarts after it exits on its own, within restartWindowMs; one more exit fails the workload. */
  restarts: z.int().min(0).max(100).default(3),
  restartWindowMs: z.int().min(1_000).max(86_400_000).default(600_000),
  /** Between SIGTERM and SIGKILL when it is stopped. */
  stopGraceMs: z.int().min(0).max(600_000).default(10_000),
  /** Resident memory its process group may use; past it, it is killed and restarted as after a crash (Linux: read from /proc). */
  maxMemoryMiB: z.int().min(16).max(16 * 1024 * 1024).optional(),
  /** Where the program serves an OpenAI-compatible API: its models are served by the agent while it runs. */
  serve: serveSection.optional(),
});
export type ProcessTemplate = z.infer<typeof processTemplate>;

/**
 * An image this agent runs with docker or podman (their CLI, docs/adr/0041), on the host's network so
 * that it serves on this machine's loopback. The image stays in the engine's store as the cache; the
 * container is removed on cleanup.
 */
export const containerTemplate = z.strictObject({
  driver: z.literal("container"),
  /** The engine's CLI: podman or docker. */
  engine: z.string().refine((p) => path.isAbsolute(p), "must be an absolute path (the engine's CLI, e.g. /usr/bin/podman)").default("/usr/bin/podman"),
  /** Global flags before the subcommand (podman's --runtime, --root, docker's --context). */
  engineArgs: argv.optional(),
  /** Added to the engine's environment (PATH, HOME and XDG_RUNTIME_DIR), e.g. podman's CONTAINERS_CONF. */
  engineEnv: envRecord.optional(),
  /** A reference: [registry[:port]/]name[:tag][@digest]. Never starts with '-', so it cannot be read as a flag. */
  image: z.string().max(512).regex(/^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/, "must be an image reference, e.g. registry.lan:5000/comfyui:1"),
  /** The container's argv (after the image); default the image's own command. */
  command: argv.optional(),
  /** The container's whole environment besides the image's own (passed as -e NAME=VALUE). */
  env: envRecord.optional(),
  /** Answers 2xx once the container serves; on loopback, as the container shares the host's network. */
  health: z.url({ protocol: /^https?$/ }).refine(isLoopbackUrl, "must be a loopback URL (127.0.0.0/8, [::1] or localhost)"),
  /** "missing": pulled from its registry when it is not in the engine's store; "never": it must be there. */
  pull: z.enum(["missing", "never"]).default("missing"),
  /** How long a pull may take (a model server's image may be gigabytes). */
  pullTimeoutMs: z.int().min(1_000).max(86_400_000).default(1_800_000),
  /** From the container's start until its health URL answers. */
  startTimeoutMs: z.int().min(100).max(3_600_000).default(120_000),
  /** Between the engine's SIGTERM and SIGKILL when it is stopped (rounded up to whole seconds). */
  stopGraceMs: z.int().min(0).max(600_000).default(10_000),
});
export type ContainerTemplate = z.infer<typeof containerTemplate>;

/**
 * A job this agent submits to a Nomad agent, from a job file of its own (the coordinator never sends
 * a job spec, docs/adr/0041): stopped and purged again on cleanup.
 */
export const nomadTemplate = z.strictObject({
  driver: z.literal("nomad"),
  /** The Nomad agent's HTTP API. */
  address: z.url({ protocol: /^https?$/ }).default("http://127.0.0.1:4646"),
  /** A JSON job spec in the API's shape ({"Job": {"ID": …}}), sent as it is; as `nomad job run -output` writes it. */
  job: z.string().refine((p) => path.isAbsolute(p), "must be an absolute path to a JSON job file"),
  /** The name of the agent's environment variable holding an ACL token (sent as X-Nomad-Token, never logged). */
  tokenEnv: z.string().regex(ENV_NAME, "an environment variable's name: letters, digits and '_'").optional(),
  /** Answers 2xx once the job serves; anywhere (the job may run on another node). */
  health: z.url({ protocol: /^https?$/ }),
  /** From the submission until an allocation runs and the health URL answers (image pulls included). */
  startTimeoutMs: z.int().min(100).max(3_600_000).default(300_000),
  /** How long stopping waits for the job's allocations to stop (Nomad's kill_timeout is the job's). */
  stopGraceMs: z.int().min(0).max(600_000).default(30_000),
});
export type NomadTemplate = z.infer<typeof nomadTemplate>;

export const workloadTemplate = z.discriminatedUnion("driver", [llamaTemplate, processTemplate, containerTemplate, nomadTemplate]);
export type WorkloadTemplate = z.infer<typeof workloadTemplate>;

/** The most a heartbeat lists (agentLoad.templates). */
export const MAX_TEMPLATES = 256;

/** `templates:` of the config file: name → template. */
export const workloadTemplates = z
  .record(templateName, workloadTemplate)
  .refine((templates) => Object.keys(templates).length <= MAX_TEMPLATES, `at most ${MAX_TEMPLATES} templates`);
export type WorkloadTemplates = z.infer<typeof workloadTemplates>;

function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname;
  return LOOPBACK_HOSTS.has(host) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
