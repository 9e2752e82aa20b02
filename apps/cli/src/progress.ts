// Download progress on stderr: a redrawn bar on a terminal, a line every 10%
// otherwise (logs, CI).
import type { DownloadProgress } from "@flotilla/agent";

export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): (p: DownloadProgress) => void {
  let lastDecile = -1;
  let lastDrawMs = 0;
  return (p) => {
    const mb = (n: number) => (n / 1_048_576).toFixed(1);
    const fraction = p.totalBytes ? p.receivedBytes / p.totalBytes : undefined;
    const done = p.totalBytes !== undefined && p.receivedBytes >= p.totalBytes;
    if (stream.isTTY) {
      const now = Date.now();
      if (!done && now - lastDrawMs < 100) return;
      lastDrawMs = now;
      const width = 30;
      const filled = fraction === undefined ? 0 : Math.round(fraction * width);
      const bar = fraction === undefined ? "" : `[${"#".repeat(filled)}${" ".repeat(width - filled)}] ${(fraction * 100).toFixed(0)}% `;
      stream.write(`\rdownloading ${p.file} ${bar}${mb(p.receivedBytes)}${p.totalBytes ? `/${mb(p.totalBytes)}` : ""} MB${done ? "\n" : ""}`);
      return;
    }
    const decile = fraction === undefined ? Math.floor(p.receivedBytes / 104_857_600) : Math.floor(fraction * 10);
    if (decile === lastDecile) return;
    lastDecile = decile;
    stream.write(`downloading ${p.file}: ${mb(p.receivedBytes)}${p.totalBytes ? `/${mb(p.totalBytes)}` : ""} MB\n`);
  };
}
