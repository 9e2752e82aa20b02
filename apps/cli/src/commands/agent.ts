// `flotilla agent`: serve this machine's models to a coordinator elsewhere.
// The join token is spent once for a node credential kept in the data
// directory; restarts (of the agent or the coordinator) need no new token.
// It starts in two stages into one ServiceGroup: serving (models, API, mDNS
// announcement), then, once a member, hardware watch and heartbeats. Every
// way out, a failed step or a signal, stops the group in reverse order.
import { mkdir } from "node:fs/promises";
import { connect } from "node:net";
import { once } from "node:events";
import path from "node:path";
import {
  buildAgentServer,
  CoordinatorNotFound,
  CoordinatorRefused,
  findCoordinator,
  MdnsAgent,
  detectHardware,
  HardwareWatch,
  HeartbeatLoop,
  join,
  loadCredentials,
  saveCredentials,
  type SavedCredentials,
} from "@flotilla/agent";
import { alreadyOpen, ServiceGroup } from "@flotilla/lifecycle";
import { PROTOCOL_VERSION, type HardwareInfo } from "@flotilla/protocol";
import { hashSecret } from "@flotilla/security";
import { warnIfExposedDirectory } from "@flotilla/security/private-files";
import { httpLimitsOf, type UpConfig } from "../config/up-config.ts";
import { CliError } from "../client.ts";
import { assignmentKeeperFor, createAgentWithModels, llamaRuntimeFor, stderrLogger } from "./serve-models.ts";
import { onShutdown } from "./up.ts";
import { announcesOnLan, mdnsTransport } from "./mdns-transport.ts";
import { takeJoinToken, withoutTokenValues } from "./join-token-source.ts";

export interface AgentFlags {
  join: string | undefined;
  token: string | undefined;
  tokenFile: string | undefined;
  advertiseUrl: string | undefined;
}

/** How often hardware is detected again; a change goes out with the next heartbeat. */
const HARDWARE_REFRESH_MS = 60_000;

/** How long an agent without --join looks for a coordinator on the LAN. */
const FIND_COORDINATOR_MS = 30_000;

export async function runAgent(config: UpConfig, flags: AgentFlags, env: NodeJS.ProcessEnv): Promise<void> {
  // First, before any model server is started with this environment.
  const tokenSource = await takeJoinToken(flags, env);
  if (tokenSource.warning !== undefined) {
    process.stderr.write(`${tokenSource.warning}\n`);
    // Overwrites the command line `ps` shows (libuv rewrites argv in place).
    process.title = ["flotilla", ...withoutTokenValues(process.argv.slice(2))].join(" ");
  }
  // Dropped once spent: the token has no use after the join.
  let joinToken = tokenSource.token;
  const logger = stderrLogger(config, "agent");
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  // It keeps the node's credential: say so when others can look in.
  await warnIfExposedDirectory(config.dataDir, (message) => logger.warn(message));
  const llama = llamaRuntimeFor(config, logger);
  const agent = await createAgentWithModels(config, env, logger, llama);
  // Built before the first load report (the join's), so that it lists the templates.
  // A `store:` template pulls from the coordinator with this node's credential, known once joined.
  let storeAccess: { url: string; credential: string } | undefined = undefined;
  const assignments = assignmentKeeperFor(config, env, logger, agent, llama, () => storeAccess);
  const detect = () => detectHardware({ modelDir: path.join(config.dataDir, "models") });
  const hardware: HardwareInfo = await detect();

  const saved = await loadCredentials(config.dataDir);
  let coordinatorUrl = flags.join ?? saved?.coordinatorUrl;
  let credentials = saved && saved.coordinatorUrl === coordinatorUrl ? saved : undefined;
  const server = buildAgentServer({
    host: agent,
    coordinatorCredentialHash: () => credentials?.coordinatorCredentialHash ?? null,
    logger,
    ...httpLimitsOf(config),
    assignments,
  });
  const address = await server.listen({ host: config.host, port: config.port });
  const port = Number(new URL(address).port);
  // Announced so a coordinator lists this machine, joined or not (it never
  // trusts the announcement: joining still takes a token).
  const mdns = announcesOnLan(config)
    ? new MdnsAgent({
        name: config.nodeName,
        port,
        mdns: mdnsTransport(config),
        onError: (err) => logger.warn({ err: err.message }, "mDNS discovery failed"),
      })
    : undefined;
  const services = new ServiceGroup();
  await services.start([
    alreadyOpen("models", () => agent.close()),
    // Stopped before the models: a llama template's model is released (drained) first, its program stopped.
    alreadyOpen("assignment", () => assignments.close()),
    alreadyOpen("agent API", () => server.close()),
    ...(mdns ? [mdns] : []),
  ]);
  const closeAll = () => services.stop();

  if (coordinatorUrl === undefined) {
    if (config.discovery !== "mdns") {
      await closeAll();
      throw new CliError("no coordinator to join: pass --join URL (discovery is explicit)");
    }
    process.stderr.write(`no --join given: looking for a flotilla coordinator on the LAN by mDNS for ${FIND_COORDINATOR_MS / 1000} s\n`);
    try {
      const found = mdns
        ? await mdns.findCoordinator({ timeoutMs: FIND_COORDINATOR_MS })
        : await findCoordinator({ timeoutMs: FIND_COORDINATOR_MS, mdns: mdnsTransport(config) });
      coordinatorUrl = found.url;
      process.stderr.write(`found coordinator ${found.name} at ${found.url}\n`);
    } catch (err) {
      await closeAll();
      throw new CliError(err instanceof CoordinatorNotFound ? err.message : `mDNS discovery failed: ${(err as Error).message}; pass --join URL`);
    }
  }
  const agentUrl = flags.advertiseUrl ?? (await advertisedUrl(coordinatorUrl, config.host, String(port)));

  if (!credentials) {
    if (!joinToken) {
      const how = `on the coordinator, run \`flotilla token create > FILE\` and restart this agent with --token-file FILE (or FLOTILLA_JOIN_TOKEN)`;
      if (!mdns) {
        await closeAll();
        throw new CliError(`this agent has not joined ${coordinatorUrl} yet: ${how}`);
      }
      // Stay announced: the coordinator lists this machine as discovered,
      // not joined, which is how its owner finds it.
      onShutdown(logger, closeAll);
      process.stderr.write(
        `flotilla agent ${config.nodeName} is up at ${address}, not a member yet\n` +
          `the coordinator at ${coordinatorUrl} lists it as discovered; to join, ${how}\n`,
      );
      return;
    }
    try {
      const joined = await join(coordinatorUrl, joinToken, {
        protocolVersion: PROTOCOL_VERSION,
        name: config.nodeName,
        tier: config.tier,
        pool: config.pool,
        agentUrl,
        hardware,
        load: agent.load(),
        // Joining anew (another coordinator URL) under the name this agent
        // already holds: the saved credential proves the name is its own.
        ...(saved?.name === config.nodeName ? { nodeCredential: saved.nodeCredential } : {}),
      });
      credentials = {
        coordinatorUrl,
        nodeId: joined.nodeId,
        name: config.nodeName,
        nodeCredential: joined.nodeCredential,
        coordinatorCredentialHash: hashSecret(joined.coordinatorCredential),
      } satisfies SavedCredentials;
      joinToken = undefined;
      await saveCredentials(config.dataDir, credentials);
    } catch (err) {
      await closeAll();
      if (err instanceof CoordinatorRefused) throw new CliError(`could not join ${coordinatorUrl}: ${err.message}`);
      throw new CliError(`could not reach the coordinator at ${coordinatorUrl}: ${(err as Error).message}`);
    }
  }

  storeAccess = { url: coordinatorUrl, credential: credentials.nodeCredential };
  const watch = new HardwareWatch(hardware, detect, {
    everyMs: HARDWARE_REFRESH_MS,
    onError: (err) => logger.warn({ err }, "hardware detection failed"),
  });
  // The join carried the first report.
  watch.delivered(hardware);
  const loop = new HeartbeatLoop({
    coordinatorUrl,
    credential: credentials.nodeCredential,
    intervalMs: config.heartbeatIntervalMs,
    beat: () => {
      const changed = watch.pending();
      return { protocolVersion: PROTOCOL_VERSION, agentUrl, load: agent.load(), ...(changed ? { hardware: changed } : {}) };
    },
    onDelivered: (beat) => {
      if (beat.hardware) watch.delivered(beat.hardware);
    },
    onChange: (ok, error) => {
      if (ok) logger.info({ coordinator: coordinatorUrl }, "heartbeats accepted");
      else logger.warn({ coordinator: coordinatorUrl, reason: error?.message }, "heartbeat failed; retrying every interval");
      // A coordinator that restarted may have lost what we told it: tell it again.
      if (!ok) watch.forget();
    },
  });
  // The coordinator hears of a workload's new state at once, not an interval later.
  assignments.onChange(() => loop.beatSoon());
  agent.onModelsChanged(() => loop.beatSoon());
  await services.start([watch, loop]);
  onShutdown(logger, closeAll);
  process.stderr.write(
    `flotilla agent ${config.nodeName} is up at ${address}, advertised as ${agentUrl}\n` +
      `member of ${coordinatorUrl} as node ${credentials.nodeId}; hardware: ${hardware.hardwareType}, ${hardware.cpu.logicalCores} threads\n` +
      (assignments.templates().length > 0 ? `templates it may be lent for: ${assignments.templates().join(", ")}\n` : ""),
  );
}

/**
 * The URL the coordinator should call: the bound address when it is a
 * specific one, else this machine's address on the route to the coordinator.
 */
async function advertisedUrl(coordinatorUrl: string, host: string, port: string): Promise<string> {
  if (host !== "0.0.0.0" && host !== "::") return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  const target = new URL(coordinatorUrl);
  const socket = connect(Number(target.port || (target.protocol === "https:" ? 443 : 80)), target.hostname);
  try {
    await once(socket, "connect");
    const local = socket.localAddress ?? "127.0.0.1";
    return `http://${local.includes(":") ? `[${local}]` : local}:${port}`;
  } finally {
    socket.destroy();
  }
}
