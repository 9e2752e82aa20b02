// The `flotilla` command. Usage errors exit 2, failures exit 1, both with one
// clear line on stderr.
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { FLOTILLA_VERSION } from "@flotilla/protocol";
import { resolveUpConfig, defaultDataDir, type UpConfig } from "./config/up-config.ts";
import { ConfigError } from "@flotilla/coordinator/config";
import { createKey, listKeys, revokeKey } from "./commands/keys.ts";
import { createToken } from "./commands/token.ts";
import { clusterStatus, removeNode, setDrain, watchStatus } from "./commands/cluster.ts";
import { addNode, defineClusterAdd, type AddFlags } from "./commands/cluster-add.ts";
import { clusterTest } from "./commands/cluster-test.ts";
import { CliError, type ClientTarget } from "./client.ts";
import { printable } from "./printable.ts";
import { collect, parseDurationMs, parsePositiveInt } from "./option-parsers.ts";
import type { ChatFlags } from "./commands/chat.ts";
import { defineJobsCommands } from "./commands/jobs.ts";
import { defineRoamerCommands } from "./commands/roamers.ts";
import { defineModelCommands } from "./commands/models.ts";

const env = process.env;

// The serving commands are imported when they run, not here: each loads only
// its own half of the system (an agent never loads the coordinator's server
// and store), which keeps an idle agent's memory small (BENCHMARKS.md).

function httpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError("not a URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new InvalidArgumentError("use an http:// or https:// URL");
  return url.origin;
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

/** Options every serving command shares; each maps to a setting in UpConfig. */
function withServeOptions(command: Command, defaultPort: number): Command {
  return command
    .option("--host <address>", "address to bind (default 127.0.0.1; binding wider is your explicit choice)")
    .option("--port <port>", `port to listen on (default ${defaultPort})`)
    .option("--data-dir <dir>", "where the store, keys and downloaded models live (default ~/.flotilla)")
    .option("--config <file>", "a YAML or JSON file of the same settings")
    .option("--heartbeat-interval-ms <ms>", "how often agents report (default 5000); a node is down after 3 missed")
    .option("--max-tokens-limit <n>", "the most tokens one answer may have; a larger max_tokens is capped (default 4096)")
    .addOption(new Option("--discovery <mode>", "mdns: find each other on the LAN (default); explicit: only --join URLs").choices(["mdns", "explicit"]))
    .addOption(new Option("--log-level <level>").choices(["fatal", "error", "warn", "info", "debug", "trace", "silent"]));
}

function withModelOptions(command: Command): Command {
  return command
    .option("--model <[name=]path|hf:owner/repo/file.gguf>", "a GGUF model to serve (repeatable)", collect)
    .option("--threads <n>", "llama.cpp threads per model (default: cores - 1)")
    .option("--slots <n>", "requests a model serves in parallel (default 4)")
    .option("--keep-alive <duration>", "unload a model after this long with no request, and load it again when one comes: 5m, 1h (default forever; env FLOTILLA_KEEP_ALIVE)")
    .option("--ctx-size <tokens>", "context per request, capped at the model's (default 4096)")
    .option("--max-queued <n>", "requests that may wait for a slot, per model (default 64)")
    .option("--queue-wait-ms <ms>", "how long a request may wait for a slot (default 30000)")
    .option("--name <name>", "this node's name (default: the host name)")
    .option("--tier <0|1|2>", "the class you declare for this node: 0 fast/small, 1 medium, 2 powerful (default 1)")
    .option("--pool <pool>", "the pool this node serves (default: default)")
    .option("--speech", "also serve the built-in speech engines: espeak-ng (text to speech) and pocketsphinx (speech to text), from Debian's packages (env FLOTILLA_SPEECH)")
    .addOption(new Option("--gpu <kind>", "GPU backend for llama.cpp").choices(["auto", "off", "cuda", "vulkan", "metal"]));
}

type Flags = Record<string, string | string[] | boolean | undefined>;

async function serveConfig(flags: Flags, defaultPort: number): Promise<UpConfig> {
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
    maxTokensLimit: flags.maxTokensLimit,
    gpu: flags.gpu,
    logLevel: flags.logLevel,
    heartbeatIntervalMs: flags.heartbeatIntervalMs,
    conversationTtl: flags.conversationTtl,
    discovery: flags.discovery,
    nodeName: flags.name,
    tier: flags.tier,
    pool: flags.pool,
    clusterFile: flags.clusterFile,
    queue: flags.queue,
    jobConcurrency: flags.jobConcurrency,
    speech: flags.speech,
    keepAlive: flags.keepAlive,
  };
  return resolveUpConfig(fromFlags, typeof flags.config === "string" ? flags.config : undefined, env, { port: defaultPort });
}

const program = new Command("flotilla")
  .description("one AI service from a pile of machines")
  .version(FLOTILLA_VERSION)
  .showHelpAfterError()
  .exitOverride();

const conversationTtlOption = () =>
  new Option("--conversation-ttl <duration>", "how long /cluster/execute keeps a conversation after its last turn: 12h, 30d (default 30d)");
const jobOptions = (command: Command) =>
  command
    .option("--queue <embedded|redis://host:port>", "where jobs live: jobs.db in the data directory (default) or Redis (env FLOTILLA_QUEUE)")
    .option("--job-concurrency <n>", "text jobs this coordinator runs at once (default 4)");
const clusterFileOption = () => new Option("--cluster-file <file>", "agentless nodes and allowed networks, YAML (env FLOTILLA_CLUSTER_FILE)");

jobOptions(withModelOptions(withServeOptions(program.command("up"), 8080)))
  .addOption(clusterFileOption())
  .addOption(conversationTtlOption())
  .description("run a coordinator and an agent in this one process: a cluster on this machine")
  .action(async (flags: Flags) => (await import("./commands/up.ts")).runUp(await serveConfig(flags, 8080), env));

jobOptions(withServeOptions(program.command("coordinator"), 8080))
  .addOption(clusterFileOption())
  .addOption(conversationTtlOption())
  .description("run the coordinator alone: agents on other machines join it")
  .action(async (flags: Flags) => (await import("./commands/up.ts")).runCoordinator(await serveConfig(flags, 8080), env));

withModelOptions(withServeOptions(program.command("agent"), 8081))
  .description("serve this machine's models to a coordinator")
  .option("--join <url>", "the coordinator's address (default: the one it joined before, else found on the LAN by mDNS)", httpUrl)
  .option("--token-file <file>", "a file holding a join token from `flotilla token create` (needed only the first time; env FLOTILLA_JOIN_TOKEN)")
  .option("--token <token>", "a join token on the command line: visible in `ps`, prefer --token-file")
  .addOption(new Option("--advertise-url <url>", "the address the coordinator should call (default: found from the route to it)").argParser(httpUrl))
  .action(async (flags: Flags & { join?: string; token?: string; tokenFile?: string; advertiseUrl?: string }) =>
    (await import("./commands/agent.ts")).runAgent(
      await serveConfig(flags, 8081),
      { join: flags.join, token: flags.token, tokenFile: flags.tokenFile, advertiseUrl: flags.advertiseUrl },
      env,
    ),
  );

const token = program.command("token").description("join tokens for new machines");
withClientFlags(token.command("create").description("create a join token and print it, alone, on stdout"))
  // The default is shown as it is typed ("15m"), not as the milliseconds it parses to.
  .addOption(new Option("--ttl <duration>", "how long it stays valid: 30s, 15m, 2h, 7d").argParser(parseDurationMs).default(15 * 60_000, "15m"))
  .option("--uses <n>", "how many machines may join with it", parsePositiveInt, 1)
  .action((flags: ClientFlags & { ttl: number; uses: number }) => createToken(targetOf(flags), env, flags.ttl, flags.uses));

const cluster = program.command("cluster").description("the nodes of the cluster");
withClientFlags(cluster.command("status").description("every node: tier, pool, hardware, models, state, load, heartbeat"))
  .option("--json", "machine-readable output")
  .option("--watch", "redraw every second")
  .action(async (flags: ClientFlags & { json?: boolean; watch?: boolean }) => {
    if (flags.watch) await watchStatus(targetOf(flags), env, 1_000);
    process.stdout.write(await clusterStatus(targetOf(flags), env, flags.json === true));
  });
withClientFlags(cluster.command("drain").description("no new work to a node; work in flight finishes").argument("<name>"))
  .action((name: string, flags: ClientFlags) => setDrain(targetOf(flags), env, name, true));
withClientFlags(cluster.command("undrain").description("let a drained node take work again").argument("<name>"))
  .action((name: string, flags: ClientFlags) => setDrain(targetOf(flags), env, name, false));
withClientFlags(cluster.command("test").description("every node answers a tiny completion: latency and tokens/s per node"))
  .option("--json", "machine-readable output")
  .action(async (flags: ClientFlags & { json?: boolean }) => {
    process.stdout.write(await clusterTest(targetOf(flags), env, flags.json === true));
  });
cluster
  .command("init")
  .description("write a commented cluster file describing this machine")
  .argument("[file]", "where to write it", "flotilla-cluster.yaml")
  .option("--force", "overwrite the file if it exists")
  .option("--data-dir <dir>", "whose model directory's free space to report (env FLOTILLA_DATA_DIR)")
  .action(async (file: string, flags: { force?: boolean; dataDir?: string }) =>
    (await import("./commands/cluster-init.ts")).clusterInit(file, flags.force === true, flags.dataDir ?? defaultDataDir(env)),
  );
withClientFlags(defineClusterAdd(cluster.command("add")))
  .action((url: string, flags: ClientFlags & AddFlags) => addNode(targetOf(flags), env, url, flags));
withClientFlags(cluster.command("remove").description("forget a node; it needs a new token to come back").argument("<name>"))
  .action((name: string, flags: ClientFlags) => removeNode(targetOf(flags), env, name));

// Imported when it runs: the OpenAI SDK is of no use to any other command.
withClientFlags(program.command("chat").description("ask the cluster through /v1, streaming the answer; no prompt on a terminal: a conversation"))
  .argument("[prompt...]", "the prompt (default: read from stdin when it is piped)")
  .addOption(new Option("--tier <0|1|2>", "send it to this tier: 0 fast/small, 1 medium, 2 powerful").choices(["0", "1", "2"]))
  .option("--no-tier-fallback", "with --tier: fail rather than use another tier")
  .option("--model <model>", "the model to ask (default: any the cluster serves)")
  .option("--session <id>", "a conversation id: its requests stay on one node, reusing its prompt cache")
  .option("--max-tokens <n>", "the longest answer, in tokens", parsePositiveInt)
  .option("--api-key <key>", "a client key for /v1 (env FLOTILLA_API_KEY; default: none, for an open /v1)")
  .option("--show-route", "print which node and tier answered, and why, on stderr")
  .action(async (words: string[], flags: ClientFlags & ChatFlags) =>
    (await import("./commands/chat.ts")).runChat(targetOf(flags), env, words, flags),
  );

const keys = program.command("keys").description("client API keys for /v1 (once one exists, /v1 requires a key)");
withClientFlags(keys.command("create").description("create a key and print it, alone, on stdout"))
  .option("--name <name>", "a label to tell keys apart", "default")
  .action((flags: ClientFlags & { name: string }) => createKey(targetOf(flags), env, flags.name));
withClientFlags(keys.command("list").description("list keys (never the keys themselves)"))
  .option("--json", "machine-readable output")
  .action((flags: ClientFlags & { json?: boolean }) => listKeys(targetOf(flags), env, flags.json === true));
withClientFlags(keys.command("revoke").description("revoke a key by its id").argument("<id>"))
  .action((id: string, flags: ClientFlags) => revokeKey(targetOf(flags), env, id));

defineJobsCommands(program.command("jobs"), { withClientFlags, targetOf, env });
defineRoamerCommands(program, { withClientFlags, targetOf, env });
defineModelCommands(program, { withClientFlags, targetOf, env });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander already printed its message (or the help / version).
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`flotilla: ${printable(err.message)}\n`);
    process.exit(2);
  }
  // Messages carry what a coordinator or node said: never raw to the terminal.
  process.stderr.write(`flotilla: ${printable(err instanceof CliError || err instanceof Error ? err.message : String(err))}\n`);
  process.exit(1);
}
