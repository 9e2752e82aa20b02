// Who is in the cluster: join tokens, joins, heartbeats, drain and removal.
// Durable facts (nodes, credential hashes, drain) live in the store; live
// facts (load, last heartbeat) only in memory, so a restarted coordinator
// knows its nodes at once and marks them ready again on their next beat.
import { randomUUID } from "node:crypto";
import type { Dispatcher } from "undici";
import {
  FlotillaError,
  hardwareInfo,
  type AgentLoad,
  type AssignmentReport,
  type AssignmentRequest,
  PROTOCOL_VERSION,
  type Heartbeat,
  type HeartbeatResponse,
  type JoinRequest,
  type JoinResponse,
} from "@flotilla/protocol";
import type { JoinTokens } from "../../store/join-tokens.ts";
import type { NodeRecord, NodeRecords } from "../../store/node-records.ts";
import type { NodeRegistry } from "../node-registry.ts";
import { RemoteNode, type RemoteNodeRecord } from "./remote-node.ts";
import { modelsKey, parseStoredModels, type RememberedModels } from "./remembered-models.ts";
import type { HealthPolicy } from "../node-health.ts";
import { limitLoad, type AgentLimits } from "./load-limits.ts";
import { deriveCoordinatorCredential, generateSecret, hashSecret } from "@flotilla/security";

export interface MembershipOptions {
  /** The joined agents, kept across restarts. */
  nodes: NodeRecords;
  joinTokens: JoinTokens;
  registry: NodeRegistry;
  clusterSecret: string;
  policy: HealthPolicy;
  dispatcher: Dispatcher;
  /** Resolves a reason when an agent's URL must not be called, else null. */
  checkAgentUrl: (url: string) => Promise<string | null>;
  /** The models and slots an agent may claim (the cluster file's agents section). */
  limitsFor: (name: string) => AgentLimits;
  nowMs: () => number;
}

export interface JoinTokenOptions {
  ttlMs: number;
  uses: number;
}

export class Membership {
  readonly #o: MembershipOptions;
  /** credential hash → node name */
  readonly #byCredential = new Map<string, string>();
  readonly #nodes = new Map<string, RemoteNode>();
  /** node name → modelsKey of the models last stored for it: a heartbeat writes only a change. */
  readonly #storedModels = new Map<string, string>();

  private constructor(options: MembershipOptions) {
    this.#o = options;
  }

  static async load(options: MembershipOptions): Promise<Membership> {
    const membership = new Membership(options);
    const lastModels = await options.nodes.lastModels();
    // The grace period: as long as a silent node takes to count as down.
    const untilMs = options.nowMs() + options.policy.downAfterMs;
    for (const record of await options.nodes.list()) {
      const json = lastModels.get(record.name);
      const models = json === undefined ? [] : parseStoredModels(json);
      membership.#storedModels.set(record.name, modelsKey(models));
      membership.#admit(record, models.length === 0 ? undefined : { models, untilMs });
    }
    return membership;
  }

  async createJoinToken(options: JoinTokenOptions): Promise<{ token: string; expiresAtMs: number; uses: number }> {
    const token = generateSecret("join");
    const createdAtMs = this.#o.nowMs();
    const expiresAtMs = createdAtMs + options.ttlMs;
    await this.#o.joinTokens.add({ id: randomUUID(), expiresAtMs, usesLeft: options.uses, createdAtMs }, hashSecret(token));
    return { token, expiresAtMs, uses: options.uses };
  }

  /**
   * Whether a join token is worth reading a request for. The route checks it
   * before the body, so nobody without a live token learns anything (node
   * names, URL policy) or makes the coordinator resolve host names. It is
   * spent only at the end of join(), so a refused join leaves it usable.
   */
  joinTokenUsable(token: string): Promise<boolean> {
    return this.#o.joinTokens.usable(hashSecret(token), this.#o.nowMs());
  }

  async join(token: string, request: JoinRequest): Promise<JoinResponse> {
    if (request.protocolVersion !== PROTOCOL_VERSION) {
      throw new FlotillaError("invalid_request", `this coordinator speaks protocol ${PROTOCOL_VERSION}, the agent ${request.protocolVersion}`, {
        param: "protocolVersion",
      });
    }
    // Check the URL before spending the token: a refused join leaves it usable.
    await this.#requireAllowedUrl(request.agentUrl);
    // Any other node of that name (this process's own, an agentless server)
    // is not an agent's to take.
    if (this.#o.registry.get(request.name) && !this.#nodes.has(request.name)) {
      throw new FlotillaError("conflict", `another node of the cluster is named ${request.name}; start the agent with another --name`, {
        param: "name",
      });
    }
    // A join token admits a new machine, not a name: re-joining under a
    // member's name takes that member's credential, or else anyone with a
    // token could shut the real agent out and receive its prompts.
    if (this.#nodes.has(request.name) && !this.#holdsCredentialOf(request.name, request.nodeCredential)) {
      throw new FlotillaError(
        "conflict",
        `node ${request.name} is already a member of the cluster; its own agent re-joins with the credential saved in its data directory. ` +
          `To give the name to another machine, remove the node first (\`flotilla cluster remove ${request.name}\`) or start this agent with another --name`,
        { param: "name" },
      );
    }
    // Spent atomically: of two agents racing for its last use, one gets 401.
    if (!(await this.#o.joinTokens.spend(hashSecret(token), this.#o.nowMs()))) {
      throw new FlotillaError("invalid_api_key", "the join token is not valid: unknown, expired or used up");
    }
    const nodeCredential = generateSecret("node");
    const record: NodeRecord = {
      id: randomUUID(),
      name: request.name,
      url: request.agentUrl,
      tier: request.tier,
      pool: request.pool,
      credentialHash: hashSecret(nodeCredential),
      hardwareJson: JSON.stringify(request.hardware),
      drained: false,
      joinedAtMs: this.#o.nowMs(),
    };
    await this.#o.nodes.put(record);
    this.#forget(record.name);
    const load = this.#believed(this.#admit(record), request.load);
    await this.#storeModels(record.name, load.models);
    return {
      nodeId: record.id,
      nodeCredential,
      coordinatorCredential: deriveCoordinatorCredential(this.#o.clusterSecret, record.id),
      heartbeatIntervalMs: this.#o.policy.heartbeatIntervalMs,
    };
  }

  /** The node a credential belongs to, or undefined. */
  nodeFor(credential: string): string | undefined {
    return this.#byCredential.get(hashSecret(credential));
  }

  async heartbeat(nodeName: string, beat: Heartbeat): Promise<HeartbeatResponse> {
    const node = this.#nodes.get(nodeName);
    if (!node) throw new FlotillaError("invalid_api_key", "this node is not a member of the cluster; join again");
    if (beat.agentUrl !== node.record.url) {
      await this.#requireAllowedUrl(beat.agentUrl);
      node.record = { ...node.record, url: beat.agentUrl };
      await this.#o.nodes.setUrl(nodeName, beat.agentUrl);
    }
    if (beat.hardware) {
      node.record = { ...node.record, hardware: beat.hardware };
      await this.#o.nodes.setHardware(nodeName, JSON.stringify(beat.hardware));
    }
    const load = this.#believed(node, beat.load);
    await this.#storeModels(nodeName, load.models);
    return { heartbeatIntervalMs: this.#o.policy.heartbeatIntervalMs };
  }

  /** Asks a joined agent to provision an assignment, or (null) to clean up; its report back (remote-node.ts). */
  assignment(name: string, change: AssignmentRequest | null, signal: AbortSignal): Promise<AssignmentReport | null> {
    const node = this.#nodes.get(name);
    if (!node) return Promise.reject(unknownNode(name));
    return node.assignment(change, signal);
  }

  async setDrained(name: string, drained: boolean): Promise<void> {
    const node = this.#nodes.get(name);
    if (!node || !(await this.#o.nodes.setDrained(name, drained))) throw unknownNode(name);
    node.record = { ...node.record, drained };
  }

  async remove(name: string): Promise<void> {
    if (!(await this.#o.nodes.remove(name))) throw unknownNode(name);
    this.#forget(name);
  }

  /** Hears the report, less what the node may not claim; returns what was believed. */
  #believed(node: RemoteNode, reported: AgentLoad): AgentLoad {
    const { load, limits } = limitLoad(reported, node.record.hardware, this.#o.limitsFor(node.name));
    node.heard(load, this.#o.nowMs(), limits);
    return load;
  }

  #holdsCredentialOf(name: string, credential: string | undefined): boolean {
    return credential !== undefined && this.#byCredential.get(hashSecret(credential)) === name;
  }

  async #storeModels(name: string, models: AgentLoad["models"]): Promise<void> {
    const key = modelsKey(models);
    if (this.#storedModels.get(name) === key) return;
    await this.#o.nodes.setModels(name, JSON.stringify(models));
    this.#storedModels.set(name, key);
  }

  #admit(record: NodeRecord, remembered?: RememberedModels): RemoteNode {
    const parsedHardware = record.hardwareJson === null ? null : hardwareInfo.safeParse(JSON.parse(record.hardwareJson));
    const remote: RemoteNodeRecord = {
      id: record.id,
      name: record.name,
      url: record.url,
      tier: record.tier,
      pool: record.pool,
      hardware: parsedHardware?.success ? parsedHardware.data : null,
      drained: record.drained,
    };
    const credential = deriveCoordinatorCredential(this.#o.clusterSecret, record.id);
    const node = new RemoteNode(remote, credential, this.#o.policy, this.#o.dispatcher, remembered);
    this.#nodes.set(record.name, node);
    this.#byCredential.set(record.credentialHash, record.name);
    this.#o.registry.add(node);
    return node;
  }

  #forget(name: string): void {
    this.#storedModels.delete(name);
    if (!this.#nodes.delete(name)) return;
    for (const [hash, owner] of this.#byCredential) if (owner === name) this.#byCredential.delete(hash);
    this.#o.registry.remove(name);
  }

  async #requireAllowedUrl(url: string): Promise<void> {
    const reason = await this.#o.checkAgentUrl(url);
    if (reason !== null) throw new FlotillaError("invalid_request", `agentUrl refused: ${reason}`, { param: "agentUrl" });
  }
}

function unknownNode(name: string): FlotillaError {
  return new FlotillaError("not_found", `no node is named ${name}`, { param: "name" });
}
