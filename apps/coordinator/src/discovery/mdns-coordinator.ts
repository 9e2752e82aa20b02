// The coordinator's side of zero-config LAN discovery (docs/adr/0009):
// announce `_flotilla._tcp` so agents started without --join can find us, and
// browse `_flotilla-agent._tcp` to list the agents seen on the LAN. Those are
// "discovered, not joined": anyone on the LAN can announce anything, so the
// list is only shown, never trusted or contacted; joining takes a join token.
import { EventEmitter } from "node:events";
import { isIP } from "node:net";
import { Bonjour, type Browser, type Service, type ServiceConfig } from "bonjour-service";
import type { Service as LifecycleService } from "@flotilla/lifecycle";
import {
  AGENT_SERVICE,
  COORDINATOR_SERVICE,
  encodeDiscoveryTxt,
  parseDiscoveryTxt,
  type MdnsTransportOptions,
} from "@flotilla/protocol";

export interface DiscoveredAgent {
  /** The name in the agent's TXT record. */
  name: string;
  /** The source of its answer first, then its A/AAAA records. */
  addresses: string[];
  /** The port of the agent's API (SRV, equal to TXT `port`). */
  port: number;
  /** The `v` of its TXT record: a different one will not be able to join. */
  protocolVersion: string;
  lastSeenMs: number;
}

export interface MdnsCoordinatorOptions {
  /** The coordinator's name, announced as instance name and in TXT. */
  name: string;
  /** The port of the coordinator's API. */
  port: number;
  mdns?: MdnsTransportOptions;
  /** How often the LAN is asked again (default 60 s). */
  refreshMs?: number;
  /** An agent not seen for this long is dropped (default 3 × refreshMs). */
  expireMs?: number;
  /** Bound on the list: a LAN can announce without limit (default 1000). */
  maxAgents?: number;
  /** Socket and send errors; discovery is best-effort and carries on. */
  onError?: (error: Error) => void;
  now?: () => number;
}

const GOODBYE_WAIT_MS = 1000;

export class MdnsCoordinator implements LifecycleService {
  readonly name = "mDNS discovery";
  readonly #options: MdnsCoordinatorOptions;
  readonly #now: () => number;
  readonly #refreshMs: number;
  readonly #expireMs: number;
  readonly #maxAgents: number;
  /** By service FQDN, which is unique on the LAN. */
  readonly #agents = new Map<string, DiscoveredAgent>();
  #bonjour: Bonjour | undefined;
  #browser: Browser | undefined;
  #refresh: NodeJS.Timeout | undefined;

  constructor(options: MdnsCoordinatorOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#refreshMs = options.refreshMs ?? 60_000;
    this.#expireMs = options.expireMs ?? 3 * this.#refreshMs;
    this.#maxAgents = options.maxAgents ?? 1000;
  }

  /** Announces `_flotilla._tcp` and starts browsing for agents. */
  start(): void {
    if (this.#bonjour) return;
    const { name, port } = this.#options;
    const bonjour = openBonjour(this.#options.mdns, (error) => this.#options.onError?.(error));
    this.#bonjour = bonjour;
    bonjour.publish({
      name,
      type: COORDINATOR_SERVICE,
      port,
      txt: encodeDiscoveryTxt({ role: "coordinator", name, port }),
    });
    this.#browse();
    // A browser reports each service once; a fresh one every refreshMs asks
    // the LAN again, so lastSeenMs moves and silent agents expire.
    this.#refresh = setInterval(() => {
      this.#browse();
      this.#expire();
    }, this.#refreshMs);
    this.#refresh.unref();
  }

  /** Agents seen on the LAN and not yet expired, by name. */
  discovered(): DiscoveredAgent[] {
    this.#expire();
    return [...this.#agents.values()]
      .map((agent) => ({ ...agent, addresses: [...agent.addresses] }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Sends a goodbye for our announcement and closes the socket. */
  async stop(): Promise<void> {
    const bonjour = this.#bonjour;
    this.#bonjour = undefined;
    clearInterval(this.#refresh);
    this.#refresh = undefined;
    this.#stopBrowser();
    this.#agents.clear();
    if (!bonjour) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, GOODBYE_WAIT_MS);
      timer.unref();
      bonjour.unpublishAll(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    await new Promise<void>((resolve) => bonjour.destroy(() => resolve()));
  }

  #browse(): void {
    this.#stopBrowser();
    if (!this.#bonjour) return;
    const browser = this.#bonjour.find({ type: AGENT_SERVICE });
    const seen = (service: Service) => this.#seen(service);
    browser.on("up", seen);
    browser.on("srv-update", seen);
    browser.on("txt-update", seen);
    browser.on("down", (service) => this.#agents.delete(service.fqdn));
    this.#browser = browser;
  }

  #stopBrowser(): void {
    this.#browser?.stop();
    this.#browser?.removeAllListeners();
    this.#browser = undefined;
  }

  #seen(service: Service): void {
    const txt = parseDiscoveryTxt(service.txt);
    if (!txt || txt.role !== "agent" || txt.port !== service.port) return;
    if (!this.#agents.has(service.fqdn) && this.#agents.size >= this.#maxAgents) return;
    const addresses = [service.referer?.address, ...(service.addresses ?? [])].filter(
      (a): a is string => typeof a === "string" && isIP(a) !== 0,
    );
    this.#agents.set(service.fqdn, {
      name: txt.name,
      addresses: [...new Set(addresses)],
      port: txt.port,
      protocolVersion: txt.v,
      lastSeenMs: this.#now(),
    });
  }

  #expire(): void {
    const oldest = this.#now() - this.#expireMs;
    for (const [fqdn, agent] of this.#agents) {
      if (agent.lastSeenMs < oldest) this.#agents.delete(fqdn);
    }
  }
}

/**
 * A Bonjour instance whose socket errors reach `onError` instead of crashing
 * the process: multicast-dns emits `error` (bind failed, EACCES) on an emitter
 * that bonjour-service does not listen to.
 */
function openBonjour(mdns: MdnsTransportOptions | undefined, onError: (error: Error) => void): Bonjour {
  const report = (error: unknown) => onError(error instanceof Error ? error : new Error(String(error)));
  // bonjour-service passes these options through to multicast-dns.
  const options: Partial<ServiceConfig> & MdnsTransportOptions = { ...mdns };
  const bonjour = new Bonjour(options, report);
  const server: unknown = Reflect.get(bonjour, "server");
  const socket: unknown = typeof server === "object" && server !== null ? Reflect.get(server, "mdns") : undefined;
  if (!(socket instanceof EventEmitter)) {
    throw new Error("bonjour-service internals changed: no mDNS socket to watch for errors");
  }
  socket.on("error", report);
  return bonjour;
}
