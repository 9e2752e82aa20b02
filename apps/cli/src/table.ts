import { printable } from "./printable.ts";

/** A plain aligned text table for terminal listings. Cells hold remote data: each is made printable. */
export function table(header: string[], cells: string[][]): string {
  const rows = cells.map((row) => row.map((cell) => printable(cell)));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return `${[line(header), ...rows.map(line)].join("\n")}\n`;
}
