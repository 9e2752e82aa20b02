// `flotilla agent`: serve this machine's models to a coordinator elsewhere.
// The join token is spent once for a node credential kept in the data
// directory; restarts (of the agent or the coordinator) need no new token.
import { mkdir } from "node:fs/promises";
import { connect } from "node:net";
import { once } from "node:events";
import path from "node:path";
import {
  buildAgentServer,
  CoordinatorRefused,
  detectHardware,
  HeartbeatLoop,
  join,
  loadCredentials,
  saveCredentials,
  type SavedCredentials,
} from "@flotilla/agent";
import { PROTOCOL_VERSION, type HardwareInfo } from "@flotilla/protocol";
import { hashSecret } from "@flotilla/security";
import type { UpConfig } from "../config/up-config.ts";
import { CliError } from "../client.ts";
import { createAgentWithModels, stderrLogger } from "./serve-models.ts";
import { onShutdown } from "./up.ts";

export interface AgentFlags {
  join: string;
  token: string | undefined;
  advertiseUrl: string | undefined;
}

export async function runAgent(config: UpConfig, flags: AgentFlags, env: NodeJS.ProcessEnv): Promise<void> {
  const logger = stderrLogger(config, "agent");
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const agent = await createAgentWithModels(config, env, logger);
  const hardware: HardwareInfo = await detectHardware({ modelDir: path.join(config.dataDir, "models") });

  let credentials = await loadCredentials(config.dataDir);
  if (credentials && credentials.coordinatorUrl !== flags.join) credentials = undefined;
  const server = buildAgentServer({
    host: agent,
    coordinatorCredentialHash: () => credentials?.coordinatorCredentialHash ?? null,
    logger,
  });
  const address = await server.listen({ host: config.host, port: config.port });
  const agentUrl = flags.advertiseUrl ?? (await advertisedUrl(flags.join, config.host, new URL(address).port));

  if (!credentials) {
    if (!flags.token) {
      await server.close();
      throw new CliError(`this agent has not joined ${flags.join} yet: pass --token (from \`flotilla token create\` on the coordinator)`);
    }
    try {
      const joined = await join(flags.join, flags.token, {
        protocolVersion: PROTOCOL_VERSION,
        name: config.nodeName,
        tier: config.tier,
        pool: config.pool,
        agentUrl,
        hardware,
        load: agent.load(),
      });
      credentials = {
        coordinatorUrl: flags.join,
        nodeId: joined.nodeId,
        name: config.nodeName,
        nodeCredential: joined.nodeCredential,
        coordinatorCredentialHash: hashSecret(joined.coordinatorCredential),
      } satisfies SavedCredentials;
      await saveCredentials(config.dataDir, credentials);
    } catch (err) {
      await server.close();
      await agent.close();
      if (err instanceof CoordinatorRefused) throw new CliError(`could not join ${flags.join}: ${err.message}`);
      throw new CliError(`could not reach the coordinator at ${flags.join}: ${(err as Error).message}`);
    }
  }

  let sentHardware = false;
  const loop = new HeartbeatLoop({
    coordinatorUrl: flags.join,
    credential: credentials.nodeCredential,
    intervalMs: config.heartbeatIntervalMs,
    beat: () => {
      const beat = { protocolVersion: PROTOCOL_VERSION, agentUrl, load: agent.load(), ...(sentHardware ? {} : { hardware }) };
      sentHardware = true;
      return beat;
    },
    onChange: (ok, error) => {
      if (ok) logger.info({ coordinator: flags.join }, "heartbeats accepted");
      else logger.warn({ coordinator: flags.join, reason: error?.message }, "heartbeat failed; retrying every interval");
      // A coordinator that lost its store forgot us: send the hardware again once it answers.
      if (!ok) sentHardware = false;
    },
  });
  loop.start();
  onShutdown(logger, async () => {
    loop.stop();
    await server.close();
    await agent.close();
  });
  process.stderr.write(
    `flotilla agent ${config.nodeName} is up at ${address}, advertised as ${agentUrl}\n` +
      `member of ${flags.join} as node ${credentials.nodeId}; hardware: ${hardware.hardwareType}, ${hardware.cpu.logicalCores} threads\n`,
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
