// Which coordinator a key file in a data directory belongs to (ADR 0025). The
// CLI finds the admin key in `<data-dir>/admin.key`; without knowing whose it
// is, it would send it to whatever `--url` it was given, and a URL pasted from
// a chat or a script would hand the cluster to whoever runs that server. The
// coordinator records the origins it listens on beside the key at each start;
// the CLI sends the key only to one of them. Pure.

/** Loopback names one listening socket answers to, whichever of them a person types. */
const LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"];
const WILDCARD_HOSTS = new Set(["0.0.0.0", "::", "[::]"]);

/**
 * The origins a coordinator listening on `host`:`port` (its --host, as
 * given) is reached at from its own machine: every loopback name for a
 * loopback or wildcard bind, and, for a wildcard bind, every address of
 * this machine's interfaces (`interfaceAddresses`); else the host itself.
 */
export function originsOf(host: string, port: number, interfaceAddresses: readonly string[], protocol = "http:"): string[] {
  const origin = (name: string) => new URL(`${protocol}//${name.includes(":") && !name.startsWith("[") ? `[${name}]` : name}:${port}`).origin;
  const loopback = host === "localhost" || host === "::1" || host === "[::1]" || /^127\./.test(host);
  if (WILDCARD_HOSTS.has(host)) return [...new Set([...LOOPBACK_HOSTS, ...interfaceAddresses.filter((a) => !a.includes("%"))].map(origin))];
  if (loopback) return [...new Set([origin(host), ...LOOPBACK_HOSTS.map(origin)])];
  return [origin(host)];
}

/** The file's text: one origin a line. */
export function renderOrigins(origins: readonly string[]): string {
  return `${origins.join("\n")}\n`;
}

/** Reads the file's text back; lines that are not an http(s) origin are ignored. */
export function parseOrigins(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => {
      try {
        const url = new URL(line);
        return (url.protocol === "http:" || url.protocol === "https:") && url.origin === line;
      } catch {
        return false;
      }
    });
}

/** Whether a request to `target` goes to one of `origins` (scheme, host and port all equal). */
export function belongsTo(target: string, origins: readonly string[]): boolean {
  let origin: string;
  try {
    origin = new URL(target).origin;
  } catch {
    return false;
  }
  return origins.includes(origin);
}
