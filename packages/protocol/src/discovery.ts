// Zero-config LAN discovery over mDNS/DNS-SD (docs/adr/0009). A coordinator
// announces `_flotilla._tcp`, an agent announces `_flotilla-agent._tcp`; the
// TXT record of each names its role, protocol version, name and port. TXT
// records come from anyone on the LAN, so they are parsed with
// `discoveryTxt` before they are believed, and a discovered agent is only
// listed, never trusted: joining still takes a join token.
import { z } from "zod";
import { nodeName } from "./cluster.ts";
import { PROTOCOL_VERSION } from "./version.ts";

/** DNS-SD service type (without `_` and protocol) a coordinator announces. */
export const COORDINATOR_SERVICE = "flotilla";
/** DNS-SD service type (without `_` and protocol) an agent announces. */
export const AGENT_SERVICE = "flotilla-agent";
/** The same types as they appear on the wire (for avahi-browse, dns-sd -B). */
export const COORDINATOR_SERVICE_TYPE = `_${COORDINATOR_SERVICE}._tcp`;
export const AGENT_SERVICE_TYPE = `_${AGENT_SERVICE}._tcp`;

/** The keys of the TXT record, kept short: each entry is at most 255 bytes. */
export const TXT_KEYS = { version: "v", role: "role", name: "name", port: "port" } as const;

export const discoveryRole = z.enum(["coordinator", "agent"]);
export type DiscoveryRole = z.infer<typeof discoveryRole>;

/** `PROTOCOL_VERSION` as written in the `v` TXT key. */
export const DISCOVERY_PROTOCOL_VERSION = String(PROTOCOL_VERSION);

const txtPort = z
  .string()
  .regex(/^[1-9][0-9]{0,4}$/, "a port number 1-65535")
  .transform(Number)
  .pipe(z.int().min(1).max(65_535));

/**
 * A TXT record as decoded from the network: every value a string. Unknown
 * keys are dropped, so a later version may add some without breaking us.
 */
export const discoveryTxt = z.object({
  v: z.string().regex(/^[0-9]{1,6}$/, "a protocol version number"),
  role: discoveryRole,
  name: nodeName,
  port: txtPort,
});
export type DiscoveryTxt = z.infer<typeof discoveryTxt>;

/** The TXT record to announce: string values, as DNS-SD carries them. */
export function encodeDiscoveryTxt(fields: { role: DiscoveryRole; name: string; port: number }): Record<string, string> {
  return {
    [TXT_KEYS.version]: DISCOVERY_PROTOCOL_VERSION,
    [TXT_KEYS.role]: fields.role,
    [TXT_KEYS.name]: fields.name,
    [TXT_KEYS.port]: String(fields.port),
  };
}

/** The parsed TXT record, or null when it is malformed: never throws. */
export function parseDiscoveryTxt(raw: unknown): DiscoveryTxt | null {
  const parsed = discoveryTxt.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

/**
 * Where the mDNS socket listens: the defaults are real mDNS (224.0.0.251,
 * port 5353, every IPv4 interface). Tests use `interface: "127.0.0.1"`,
 * `bind: "0.0.0.0"` and a private port so that they stay on loopback.
 */
export interface MdnsTransportOptions {
  /** The interface address to join the group and send on (default: all). */
  interface?: string;
  /** The address to bind (default: `interface`, else all). */
  bind?: string;
  /** UDP port (default 5353). */
  port?: number;
  /** Multicast group (default 224.0.0.251). */
  ip?: string;
  /** Deliver our own multicast to ourselves (default true). */
  loopback?: boolean;
  /** Multicast TTL (default 255). */
  ttl?: number;
}
