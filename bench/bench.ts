// `npm run bench`: runs the benchmark suites and records the results in
// BENCHMARKS.md. Modes: smoke (seconds; the test suite runs it to check the
// bench code works, and records nothing), quick (the default, a few
// minutes), full (longer rounds). `--only routing-cost,heartbeat-scale` runs
// only those suites (names: their functions' names in kebab case) and records
// nothing. Timing goals live here, never in tests.
import path from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "@flotilla/testkit";
import { failover } from "./failover.ts";
import { footprint } from "./footprint.ts";
import { gateway } from "./gateway.ts";
import { heartbeatScale } from "./heartbeat-scale.ts";
import { jobQueue } from "./job-queue.ts";
import { jobCancel } from "./job-cancel.ts";
import { speech } from "./speech.ts";
import { roamers } from "./roamers.ts";
import { modelStore } from "./model-store.ts";
import { jobCrash } from "./job-crash.ts";
import { realInference } from "./real-inference.ts";
import { routingCost } from "./routing-cost.ts";
import { recordResults, renderTable, type BenchResult, type Mode } from "./report.ts";

const { values } = parseArgs({
  options: {
    mode: { type: "string", default: "quick" },
    "no-write": { type: "boolean", default: false },
    /** Comma-separated suites to run, by function name in kebab case (routing-cost); records nothing. */
    only: { type: "string" },
  },
  strict: true,
});
const mode = values.mode;
if (mode !== "smoke" && mode !== "quick" && mode !== "full") {
  process.stderr.write(`bench: --mode must be smoke, quick or full, not ${mode}\n`);
  process.exit(2);
}
const selected: Mode = mode;

const suites: Array<(mode: Mode) => Promise<BenchResult[]>> = [footprint, gateway, routingCost, heartbeatScale, realInference, failover, jobQueue, jobCancel, jobCrash, speech, roamers, modelStore];
const suiteName = (suite: { name: string }) => suite.name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const only = values.only?.split(",").map((s) => s.trim()).filter((s) => s !== "");
const unknown = only?.filter((name) => !suites.some((s) => suiteName(s) === name)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(`bench: no suite ${unknown.join(", ")}; there are ${suites.map(suiteName).join(", ")}\n`);
  process.exit(2);
}
const results: BenchResult[] = [];
for (const suite of suites) if (only === undefined || only.includes(suiteName(suite))) results.push(...(await suite(selected)));

process.stdout.write(`${renderTable(results)}\n`);
if (selected !== "smoke" && !values["no-write"] && only === undefined) {
  await recordResults(path.join(REPO_ROOT, "BENCHMARKS.md"), selected, results);
  process.stderr.write("recorded in BENCHMARKS.md\n");
}
