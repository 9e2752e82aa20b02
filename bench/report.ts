// Printing and recording benchmark results. BENCHMARKS.md keeps its prose;
// only the block between the markers is rewritten, with the date, the
// machine and the command that produced the numbers.
import { readFile, writeFile } from "node:fs/promises";
import os from "node:os";

export type Mode = "smoke" | "quick" | "full";

export interface BenchResult {
  suite: string;
  name: string;
  /** The measured figure, formatted (a ratio where the claim is relative). */
  value: string;
  /** min–max across rounds. */
  range: string;
  goal: string;
  /** null: a figure shown for context (or one that could not be measured), no verdict. */
  met: boolean | null;
}

export function renderTable(results: BenchResult[]): string {
  const rows = results.map((r) => `| ${r.suite} | ${r.name} | ${r.value} | ${r.range} | ${r.goal} | ${r.met === null ? "" : r.met ? "met" : "**not met**"} |`);
  return ["| suite | measure | median | min–max | goal | |", "| --- | --- | --- | --- | --- | --- |", ...rows].join("\n");
}

export function machine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU";
  return `${cpu}, ${os.cpus().length} logical cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.platform()} ${os.release()}, Node ${process.version}`;
}

const BEGIN = "<!-- bench:begin -->";
const END = "<!-- bench:end -->";

export async function recordResults(file: string, mode: Mode, results: BenchResult[]): Promise<void> {
  const block = [
    BEGIN,
    `Latest run: ${new Date().toISOString().slice(0, 10)}, \`npm run bench${mode === "full" ? " -- --mode full" : ""}\` (${mode} mode)`,
    `on ${machine()}.`,
    "",
    renderTable(results),
    END,
  ].join("\n");
  const text = await readFile(file, "utf8");
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${file} has no ${BEGIN} … ${END} block`);
  await writeFile(file, text.slice(0, start) + block + text.slice(end + END.length));
}
