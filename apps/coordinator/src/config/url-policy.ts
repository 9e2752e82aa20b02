// Which URLs the coordinator may call as nodes. A node URL comes from a
// cluster file or from an agent registering itself, so it is untrusted input:
// without a policy the coordinator would fetch whatever it is told (SSRF).
// The rule is an allowlist of networks, matched with Node's net.BlockList.
//
// What this module does not do, and who must:
// - Redirects: the HTTP client that calls nodes must not follow them (undici
//   does not unless told to); a node that answers 30x to a public address would
//   otherwise walk around this check.
// - DNS rebinding: resolveAndCheckNodeUrl checks the addresses a name has now;
//   a client that resolves again may get others. It returns the checked
//   addresses so the caller can pin the connection to them.
import { BlockList, isIP } from "node:net";
import { promises as dns, type LookupAddress, type LookupOptions } from "node:dns";

/**
 * Home-lab networks: loopback, private ranges, IPv6 unique-local and
 * link-local. Not IPv4 link-local (169.254.0.0/16): see CLOUD_RESERVED_NETWORKS.
 */
export const DEFAULT_ALLOWED_NETWORKS: readonly string[] = [
  "127.0.0.0/8",
  "::1/128",
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "fc00::/7",
  "fe80::/10",
];

/**
 * Refused unless an allowedNetworks entry lies inside one of them (ADR 0024).
 * Clouds keep more than the metadata service here, and the list grows: AWS's
 * ECS task credentials (169.254.170.2), EKS pod identity (169.254.170.23,
 * fd00:ec2::23), its DNS (169.254.169.253) and time (169.254.169.123). Naming
 * addresses one by one always lags; refusing the ranges does not. A broad
 * entry (0.0.0.0/0, fc00::/7) is not taken as meaning these.
 */
export const CLOUD_RESERVED_NETWORKS: readonly string[] = ["169.254.0.0/16", "fd00:ec2::/32"];

/**
 * Refused even inside an allowed network. These are the cloud instance
 * metadata services: no inference server listens there, and a node URL that
 * reaches one makes the coordinator fetch the machine's cloud credentials for
 * whoever wrote the URL. 169.254.169.254 (AWS, GCP, Azure, OCI, ...) sits in
 * link-local and fd00:ec2::254 (AWS over IPv6) in fc00::/7, both of which the
 * default allows; 100.100.100.200 (Alibaba) matters once someone allows
 * 100.64.0.0/10 for Tailscale.
 */
export const CLOUD_METADATA_ADDRESSES: readonly string[] = [
  "169.254.169.254/32",
  "fd00:ec2::254/128",
  "100.100.100.200/32",
];

type Family = "ipv4" | "ipv6";

interface Cidr {
  address: string;
  prefix: number;
  family: Family;
}

/** Parses "10.0.0.0/8", "fe80::/10" or a bare address (one host); throws on anything else. */
export function parseCidr(text: string): Cidr {
  const [address = "", prefixText, extra] = text.trim().split("/");
  const version = isIP(address);
  if (version === 0 || extra !== undefined) {
    throw new Error(`"${text}" is not a network: write an address and a prefix length, like 10.0.0.0/8 or fd00::/8`);
  }
  const family: Family = version === 4 ? "ipv4" : "ipv6";
  const max = version === 4 ? 32 : 128;
  if (prefixText === undefined) return { address, prefix: max, family };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) {
    throw new Error(`"${text}" has a bad prefix length: it must be a whole number from 0 to ${max}`);
  }
  return { address, prefix: Number(prefixText), family };
}

/** Null when the text is a network parseCidr accepts, else why not. */
export function cidrProblem(text: string): string | null {
  try {
    parseCidr(text);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

export class NetworkAllowlist {
  /** The allowed networks as written, for messages. */
  readonly cidrs: readonly string[];
  readonly #allow: BlockList;
  readonly #deny: BlockList;
  readonly #reserved: BlockList;
  /** The allowed entries that lie inside a reserved network: the explicit permission it needs. */
  readonly #explicit: BlockList;

  /** Use fromCidrs. */
  constructor(cidrs: readonly string[], lists: { allow: BlockList; deny: BlockList; reserved: BlockList; explicit: BlockList }) {
    this.cidrs = cidrs;
    this.#allow = lists.allow;
    this.#deny = lists.deny;
    this.#reserved = lists.reserved;
    this.#explicit = lists.explicit;
  }

  /**
   * Throws an error naming the bad entry when a CIDR is malformed. `deny`
   * defaults to the cloud metadata addresses, so a custom allowlist keeps
   * refusing them.
   */
  static fromCidrs(cidrs: readonly string[], options: { deny?: readonly string[]; reserved?: readonly string[] } = {}): NetworkAllowlist {
    const parseAll = (list: readonly string[], what: string): Cidr[] =>
      list.map((text, i) => {
        try {
          return parseCidr(text);
        } catch (err) {
          throw new Error(`${what}[${i}]: ${(err as Error).message}`);
        }
      });
    const toBlockList = (list: readonly Cidr[]) => {
      const blockList = new BlockList();
      for (const cidr of list) blockList.addSubnet(cidr.address, cidr.prefix, cidr.family);
      return blockList;
    };
    const allowed = parseAll(cidrs, "allowedNetworks");
    const reserved = parseAll(options.reserved ?? CLOUD_RESERVED_NETWORKS, "reserved");
    const explicit = allowed.filter((entry) => reserved.some((range) => isInside(entry, range)));
    return new NetworkAllowlist([...cidrs], {
      allow: toBlockList(allowed),
      deny: toBlockList(parseAll(options.deny ?? CLOUD_METADATA_ADDRESSES, "deny")),
      reserved: toBlockList(reserved),
      explicit: toBlockList(explicit),
    });
  }

  static default(): NetworkAllowlist {
    return NetworkAllowlist.fromCidrs(DEFAULT_ALLOWED_NETWORKS);
  }

  /** Null when an IP address (v4, v6, or IPv4-mapped v6) is inside and not denied, else why not. */
  problemWith(address: string): string | null {
    const ip = normalizeAddress(address);
    if (!ip) return `${address} is not an IP address`;
    // Name the IPv4 address a mapped one reaches, since that is what was judged.
    const shown = ip.family === "ipv4" && !address.includes(ip.address) ? `${address} (${ip.address})` : address;
    if (this.#deny.check(ip.address, ip.family)) return `${shown} is a cloud metadata address, which is never a node`;
    if (this.#reserved.check(ip.address, ip.family) && !this.#explicit.check(ip.address, ip.family)) {
      return `${shown} is in a range where clouds serve metadata and credentials (${CLOUD_RESERVED_NETWORKS.join(", ")}): ` +
        "a node there needs an allowedNetworks entry inside that range, like 169.254.10.0/24";
    }
    if (!this.#allow.check(ip.address, ip.family)) {
      return `${shown} is outside the allowed networks (${this.cidrs.join(", ")})`;
    }
    return null;
  }

  allows(address: string): boolean {
    return this.problemWith(address) === null;
  }
}

/** Whether every address of `entry` lies in `range`: same family, a prefix at least as long, and its base inside. */
function isInside(entry: Cidr, range: Cidr): boolean {
  if (entry.family !== range.family || entry.prefix < range.prefix) return false;
  const one = new BlockList();
  one.addSubnet(range.address, range.prefix, range.family);
  return one.check(entry.address, entry.family);
}

/**
 * An address in the form the allowlist judges it: brackets dropped, and an
 * IPv4-mapped IPv6 address (::ffff:10.0.0.1, which the URL parser writes as
 * ::ffff:a00:1) as the IPv4 address it reaches. Undefined for non-addresses
 * and scoped ones (fe80::1%eth0), which are refused.
 */
export function normalizeAddress(raw: string): { address: string; family: Family } | undefined {
  const bare = raw.startsWith("[") && raw.endsWith("]") ? raw.slice(1, -1) : raw;
  const version = isIP(bare);
  if (version === 4) return { address: bare, family: "ipv4" };
  if (version !== 6 || bare.includes("%")) return undefined;
  // The WHATWG URL parser writes IPv6 in one canonical form, so the mapped
  // prefix has a single spelling to look for.
  let canonical: string;
  try {
    canonical = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (mapped) {
    const high = parseInt(mapped[1] ?? "0", 16);
    const low = parseInt(mapped[2] ?? "0", 16);
    return { address: [high >> 8, high & 0xff, low >> 8, low & 0xff].join("."), family: "ipv4" };
  }
  return { address: canonical, family: "ipv6" };
}

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

/** Null when an address resolved for a node may be called, else why not. */
export function checkAddress(address: string, allowed: NetworkAllowlist): string | null {
  return allowed.problemWith(address);
}

/**
 * The pure part of the policy. An IP literal is judged here; a hostname
 * passes, and the caller must resolve it and check every address
 * (resolveAndCheckNodeUrl does both).
 */
export function checkNodeUrl(raw: string, allowed: NetworkAllowlist): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: `"${raw}" is not a URL` };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { ok: false, reason: `scheme ${url.protocol.slice(0, -1)} is not allowed: use http or https` };
  }
  // Credentials in a URL end up in logs and status pages; a node's token
  // belongs in apiKeyEnv.
  if (url.username !== "" || url.password !== "") {
    return { ok: false, reason: "a node URL must not carry a user name or password: put the token in apiKeyEnv" };
  }
  // A fragment is never sent, so one here is a mistake (or a trick that
  // makes the URL read differently than it routes).
  if (url.href.includes("#")) return { ok: false, reason: "a node URL must not have a #fragment" };
  if (url.hostname === "") return { ok: false, reason: "a node URL needs a host" };
  if (isIpLiteral(url.hostname)) {
    const problem = checkAddress(bareHost(url), allowed);
    if (problem) return { ok: false, reason: problem };
  }
  return { ok: true, url };
}

// The URL parser has already turned every numeric host (0x7f.1, 2130706433)
// into dotted IPv4 and bracketed every IPv6 one, so these two tests suffice.
function isIpLiteral(hostname: string): boolean {
  return hostname.startsWith("[") || isIP(hostname) === 4;
}

function bareHost(url: URL): string {
  return url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
}

/** Every address a host name resolves to; injected so tests need no DNS. */
export type LookupAll = (hostname: string) => Promise<readonly { address: string }[]>;

const systemLookup: LookupAll = (hostname) => dns.lookup(hostname, { all: true });

/**
 * checkNodeUrl, then for a hostname: resolve it and refuse unless EVERY
 * address is allowed (one public address among private ones is enough for
 * a request to leave the network). Returns the addresses it checked so the
 * caller can connect to exactly those.
 */
export async function resolveAndCheckNodeUrl(
  raw: string,
  allowed: NetworkAllowlist,
  lookup: LookupAll = systemLookup,
): Promise<{ ok: true; url: URL; addresses: string[] } | { ok: false; reason: string; unresolved?: true }> {
  const checked = checkNodeUrl(raw, allowed);
  if (!checked.ok) return checked;
  const { url } = checked;
  if (isIpLiteral(url.hostname)) return { ok: true, url, addresses: [bareHost(url)] };
  let found: readonly { address: string }[];
  try {
    found = await lookup(url.hostname);
  } catch (err) {
    // Not the policy's refusal: a name that does not resolve now may resolve later.
    return { ok: false, reason: `cannot resolve ${url.hostname}: ${(err as Error).message}`, unresolved: true };
  }
  if (found.length === 0) return { ok: false, reason: `${url.hostname} resolves to no address`, unresolved: true };
  const addresses = found.map((entry) => entry.address);
  for (const address of addresses) {
    const problem = checkAddress(address, allowed);
    if (problem) return { ok: false, reason: `${url.hostname} resolves to ${problem}` };
  }
  return { ok: true, url, addresses };
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net.connect that refuses to connect when any address the
 * name resolves to is outside the allowlist. IP literals never reach a
 * lookup; checkNodeUrl judges those when the URL is registered.
 */
export function checkedLookup(allowed: NetworkAllowlist) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dns.lookup(hostname, { family: options.family, hints: options.hints, all: true }).then(
      (found) => {
        for (const entry of found) {
          const problem = checkAddress(entry.address, allowed);
          if (problem) {
            const err: NodeJS.ErrnoException = new Error(`refusing to connect: ${hostname} resolves to ${problem}`);
            err.code = "EADDRNOTALLOWED";
            callback(err, []);
            return;
          }
        }
        if (options.all) callback(null, found);
        else if (found[0]) callback(null, found[0].address, found[0].family);
        else callback(Object.assign(new Error(`${hostname} resolves to no address`), { code: "ENOTFOUND" }), []);
      },
      (err: NodeJS.ErrnoException) => callback(err, []),
    );
  };
}
