// `npm run bench`: runs the benchmark suites and records the results in
// BENCHMARKS.md. Modes: smoke (seconds; the test suite runs it to check the
// bench code works, and records nothing), quick (the default, a few
// minutes), full (longer rounds). Timing goals live here, never in tests.
import path from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "@flotilla/testkit";
import { footprint } from "./footprint.ts";
import { gateway } from "./gateway.ts";
import { recordResults, renderTable, type BenchResult, type Mode } from "./report.ts";

const { values } = parseArgs({
  options: {
    mode: { type: "string", default: "quick" },
    "no-write": { type: "boolean", default: false },
  },
  strict: true,
});
const mode = values.mode;
if (mode !== "smoke" && mode !== "quick" && mode !== "full") {
  process.stderr.write(`bench: --mode must be smoke, quick or full, not ${mode}\n`);
  process.exit(2);
}
const selected: Mode = mode;

const suites: Array<(mode: Mode) => Promise<BenchResult[]>> = [footprint, gateway];
const results: BenchResult[] = [];
for (const suite of suites) results.push(...(await suite(selected)));

process.stdout.write(`${renderTable(results)}\n`);
if (selected !== "smoke" && !values["no-write"]) {
  await recordResults(path.join(REPO_ROOT, "BENCHMARKS.md"), selected, results);
  process.stderr.write("recorded in BENCHMARKS.md\n");
}
