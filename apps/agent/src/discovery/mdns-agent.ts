// The agent's side of zero-config LAN discovery (docs/adr/0009): announce
// `_flotilla-agent._tcp` so a coordinator can list this machine, and browse
// `_flotilla._tcp` to find a coordinator when no --join URL was given. Every
// TXT record from the network is parsed with the protocol schema; malformed
// or incompatible announcements are skipped, never thrown on.
import { EventEmitter } from "node:events";
import { isIPv4, isIPv6 } from "node:net";
import { Bonjour, type Service, type ServiceConfig } from "bonjour-service";
import type { Service as LifecycleService } from "@flotilla/lifecycle";
import {
  AGENT_SERVICE,
  COORDINATOR_SERVICE,
  DISCOVERY_PROTOCOL_VERSION,
  encodeDiscoveryTxt,
  parseDiscoveryTxt,
  type MdnsTransportOptions,
} from "@flotilla/protocol";

export interface MdnsAgentOptions {
  /** This agent's node name, announced as the instance name and in TXT. */
  name: string;
  /** The port of this agent's API. */
  port: number;
  mdns?: MdnsTransportOptions;
  /** Socket and send errors; discovery is best-effort and carries on. */
  onError?: (error: Error) => void;
}

export interface FindCoordinatorOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface FoundCoordinator {
  /** `http://ADDR:PORT`, IPv4 preferred. */
  url: string;
  name: string;
}

/** No usable coordinator answered within the time given. */
export class CoordinatorNotFound extends Error {
  override name = "CoordinatorNotFound";
}

/** Time to wait for the goodbye packets to leave before closing the socket. */
const GOODBYE_WAIT_MS = 1000;
const FIRST_REQUERY_MS = 1000;
const MAX_REQUERY_MS = 8000;

export class MdnsAgent implements LifecycleService {
  readonly name = "mDNS discovery";
  readonly #options: MdnsAgentOptions;
  #mdns: MdnsHandle | undefined;
  #published = false;
  #stopping: AbortController = new AbortController();

  constructor(options: MdnsAgentOptions) {
    this.#options = options;
  }

  /** Announces `_flotilla-agent._tcp` with this agent's name and port. */
  start(): void {
    if (this.#published) return;
    const { name, port } = this.#options;
    this.#handle().bonjour.publish({
      name,
      type: AGENT_SERVICE,
      port,
      txt: encodeDiscoveryTxt({ role: "agent", name, port }),
    });
    this.#published = true;
  }

  /**
   * Browses `_flotilla._tcp` and resolves with the first coordinator whose
   * TXT record is valid and speaks our protocol version. Rejects with
   * `CoordinatorNotFound` after `timeoutMs`, with `signal.reason` on abort,
   * and at once if the mDNS socket cannot be opened.
   */
  findCoordinator(options: FindCoordinatorOptions): Promise<FoundCoordinator> {
    const handle = this.#handle();
    return browseForCoordinator(handle, options, this.#stopping.signal);
  }

  /** Sends goodbyes for what was announced and closes the socket. */
  async stop(): Promise<void> {
    const handle = this.#mdns;
    this.#mdns = undefined;
    this.#published = false;
    this.#stopping.abort(new Error("mDNS discovery stopped"));
    this.#stopping = new AbortController();
    if (handle) await closeHandle(handle);
  }

  #handle(): MdnsHandle {
    this.#mdns ??= openHandle(this.#options.mdns, this.#options.onError);
    return this.#mdns;
  }
}

/**
 * Finds a coordinator with a socket of its own, closed again before it
 * returns: for `flotilla agent` without `--join`.
 */
export async function findCoordinator(
  options: FindCoordinatorOptions & { mdns?: MdnsTransportOptions },
): Promise<FoundCoordinator> {
  const handle = openHandle(options.mdns, undefined);
  try {
    return await browseForCoordinator(handle, options, undefined);
  } finally {
    await closeHandle(handle);
  }
}

function browseForCoordinator(
  handle: MdnsHandle,
  { timeoutMs, signal }: FindCoordinatorOptions,
  stopSignal: AbortSignal | undefined,
): Promise<FoundCoordinator> {
  return new Promise((resolve, reject) => {
    const signals = [signal, stopSignal].filter((s) => s !== undefined);
    const aborted = signals.find((s) => s.aborted);
    if (aborted) {
      reject(abortReason(aborted));
      return;
    }
    if (handle.failure) {
      reject(unavailable(handle.failure));
      return;
    }
    const incompatible = new Set<string>();
    const browser = handle.bonjour.find({ type: COORDINATOR_SERVICE });
    let requeryMs = FIRST_REQUERY_MS;
    let requery = setTimeout(function again() {
      browser.update();
      requeryMs = Math.min(requeryMs * 2, MAX_REQUERY_MS);
      requery = setTimeout(again, requeryMs);
    }, requeryMs);
    const timeout = setTimeout(() => {
      const seen = incompatible.size > 0 ? ` (ignored, other protocol version: ${[...incompatible].join(", ")})` : "";
      finish(
        new CoordinatorNotFound(
          `no flotilla coordinator found on the LAN within ${timeoutMs} ms; pass --join URL${seen}`,
        ),
      );
    }, timeoutMs);
    const onAbort = (event: Event) => {
      const source = event.target;
      finish(source instanceof AbortSignal ? abortReason(source) : new Error("aborted"));
    };
    const onMdnsError = (error: Error) => finish(unavailable(error));
    const consider = (service: Service) => {
      const txt = parseDiscoveryTxt(service.txt);
      if (!txt || txt.role !== "coordinator" || txt.port !== service.port) return;
      if (txt.v !== DISCOVERY_PROTOCOL_VERSION) {
        incompatible.add(`"${txt.name}" v${txt.v}`);
        return;
      }
      const address = preferredAddress(service);
      if (address === undefined) return;
      finish(undefined, { url: `http://${address}:${txt.port}`, name: txt.name });
    };
    function finish(error: Error | undefined, found?: FoundCoordinator): void {
      clearTimeout(timeout);
      clearTimeout(requery);
      browser.stop();
      browser.removeAllListeners();
      handle.errors.off("error", onMdnsError);
      for (const s of signals) s.removeEventListener("abort", onAbort);
      if (found) resolve(found);
      else reject(error ?? new Error("mDNS discovery ended"));
    }
    browser.on("up", consider);
    browser.on("srv-update", consider);
    browser.on("txt-update", consider);
    handle.errors.on("error", onMdnsError);
    for (const s of signals) s.addEventListener("abort", onAbort, { once: true });
  });
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(String(reason));
}

function unavailable(error: Error): Error {
  return new Error(`mDNS discovery unavailable: ${error.message}`, { cause: error });
}

/**
 * The address to reach a service at: the source of its mDNS answer first (the
 * one address known to route to us), then its A records, then AAAA records
 * that are not link-local. IPv6 comes back in brackets, ready for a URL.
 */
export function preferredAddress(service: Pick<Service, "referer" | "addresses">): string | undefined {
  const candidates = [service.referer?.address, ...(service.addresses ?? [])].filter(
    (a): a is string => typeof a === "string",
  );
  const v4 = candidates.find((a) => isIPv4(a));
  if (v4 !== undefined) return v4;
  const v6 = candidates.find((a) => isIPv6(a) && !/^fe[89ab]/i.test(a));
  return v6 === undefined ? undefined : `[${v6}]`;
}

// ---- a thin typed handle on bonjour-service --------------------------------

interface MdnsHandle {
  bonjour: Bonjour;
  /** Emits `error` for socket errors (bind, send) of the underlying socket. */
  errors: EventEmitter<{ error: [Error] }>;
  /** Set when the socket could not be opened: nothing will ever arrive. */
  failure: Error | undefined;
}

function openHandle(mdns: MdnsTransportOptions | undefined, onError: ((error: Error) => void) | undefined): MdnsHandle {
  const errors = new EventEmitter<{ error: [Error] }>();
  errors.on("error", (error) => onError?.(error));
  const report = (error: unknown) => {
    errors.emit("error", error instanceof Error ? error : new Error(String(error)));
  };
  // bonjour-service passes these options through to multicast-dns.
  const options: Partial<ServiceConfig> & MdnsTransportOptions = { ...mdns };
  const bonjour = new Bonjour(options, report);
  // multicast-dns emits `error` (bind failed, EACCES) on an emitter that
  // bonjour-service does not listen to, which would crash the process.
  const socket = underlyingMdns(bonjour);
  if (!socket) throw new Error("bonjour-service internals changed: no mDNS socket to watch for errors");
  const handle: MdnsHandle = { bonjour, errors, failure: undefined };
  socket.on("error", (error: unknown) => {
    handle.failure = error instanceof Error ? error : new Error(String(error));
    report(error);
  });
  return handle;
}

function underlyingMdns(bonjour: Bonjour): EventEmitter | undefined {
  const server: unknown = Reflect.get(bonjour, "server");
  if (typeof server !== "object" || server === null) return undefined;
  const mdns: unknown = Reflect.get(server, "mdns");
  return mdns instanceof EventEmitter ? mdns : undefined;
}

async function closeHandle({ bonjour }: MdnsHandle): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, GOODBYE_WAIT_MS);
    timer.unref();
    bonjour.unpublishAll(() => {
      clearTimeout(timer);
      resolve();
    });
  });
  await new Promise<void>((resolve) => {
    bonjour.destroy(() => resolve());
  });
}
