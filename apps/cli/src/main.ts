// The `flotilla` command. Usage errors exit 2, failures exit 1, both with one
// clear line on stderr.
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { FLOTILLA_VERSION } from "@flotilla/protocol";
import { resolveUpConfig, defaultDataDir, type UpConfig } from "./config/up-config.ts";
import { ConfigError } from "./config/parse-sources.ts";
import { runUp } from "./commands/up.ts";
import { createKey, listKeys, revokeKey } from "./commands/keys.ts";
import { CliError, type ClientTarget } from "./client.ts";

const env = process.env;

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function httpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError("not a URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new InvalidArgumentError("use an http:// or https:// URL");
  return value;
}

interface ClientFlags {
  url?: string;
  dataDir?: string;
}

function targetOf(flags: ClientFlags): ClientTarget {
  return {
    url: flags.url ?? env.FLOTILLA_URL ?? `http://127.0.0.1:${env.FLOTILLA_PORT ?? "8080"}`,
    dataDir: flags.dataDir ?? defaultDataDir(env),
  };
}

function withClientFlags(command: Command): Command {
  return command
    .addOption(new Option("--url <url>", "the coordinator's address (env FLOTILLA_URL)").argParser(httpUrl))
    .option("--data-dir <dir>", "where the coordinator keeps its admin key (env FLOTILLA_DATA_DIR)");
}

const program = new Command("flotilla")
  .description("one AI service from a pile of machines")
  .version(FLOTILLA_VERSION)
  .showHelpAfterError()
  .exitOverride();

program
  .command("up")
  .description("run a coordinator and an agent in this one process: a cluster on this machine")
  .option("--model <[name=]path|hf:owner/repo/file.gguf>", "a GGUF model to serve (repeatable)", collect)
  .option("--host <address>", "address to bind (default 127.0.0.1; binding wider is your explicit choice)")
  .option("--port <port>", "port for the API, the cluster API and health (default 8080)")
  .option("--data-dir <dir>", "where the store, the admin key and downloaded models live (default ~/.flotilla)")
  .option("--config <file>", "a YAML or JSON file of the same settings")
  .option("--threads <n>", "llama.cpp threads per model (default: cores - 1)")
  .option("--slots <n>", "requests a model serves in parallel (default 4)")
  .option("--ctx-size <tokens>", "context per request, capped at the model's (default 4096)")
  .option("--max-queued <n>", "requests that may wait for a slot, per model (default 64)")
  .option("--queue-wait-ms <ms>", "how long a request may wait for a slot (default 30000)")
  .addOption(new Option("--gpu <kind>", "GPU backend for llama.cpp").choices(["auto", "off", "cuda", "vulkan", "metal"]))
  .addOption(new Option("--log-level <level>").choices(["fatal", "error", "warn", "info", "debug", "trace", "silent"]))
  .action(async (flags: Record<string, string | string[] | undefined>) => {
    const fromFlags: Partial<Record<keyof UpConfig, unknown>> = {
      models: flags.model,
      host: flags.host,
      port: flags.port,
      dataDir: flags.dataDir,
      threads: flags.threads,
      slots: flags.slots,
      contextSize: flags.ctxSize,
      maxQueued: flags.maxQueued,
      queueWaitMs: flags.queueWaitMs,
      gpu: flags.gpu,
      logLevel: flags.logLevel,
    };
    const config = await resolveUpConfig(fromFlags, typeof flags.config === "string" ? flags.config : undefined, env);
    await runUp(config, env);
  });

const keys = program.command("keys").description("client API keys for /v1 (once one exists, /v1 requires a key)");
withClientFlags(keys.command("create").description("create a key and print it, alone, on stdout"))
  .option("--name <name>", "a label to tell keys apart", "default")
  .action((flags: ClientFlags & { name: string }) => createKey(targetOf(flags), env, flags.name));
withClientFlags(keys.command("list").description("list keys (never the keys themselves)"))
  .option("--json", "machine-readable output")
  .action((flags: ClientFlags & { json?: boolean }) => listKeys(targetOf(flags), env, flags.json === true));
withClientFlags(keys.command("revoke").description("revoke a key by its id").argument("<id>"))
  .action((id: string, flags: ClientFlags) => revokeKey(targetOf(flags), env, id));

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander already printed its message (or the help / version).
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`flotilla: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`flotilla: ${err instanceof CliError || err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
