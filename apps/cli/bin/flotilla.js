#!/usr/bin/env node
// Plain JavaScript on purpose: it must run on an old Node far enough to say
// which Node flotilla needs. `npm ci` installs Node 24 into node_modules, and
// `npx flotilla` / npm scripts run with it (docs/adr/0001).
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  process.stderr.write(
    `flotilla needs Node.js 24 or newer; this is ${process.version}.\n` +
      "Run it as `npx flotilla …` from the repository after `npm ci` (which brings Node 24), or install Node 24 LTS.\n",
  );
  process.exit(1);
}
// An agent's JavaScript work is small (heartbeats, relaying tokens) and it is
// meant for 8 GB machines: a 1 MB young generation instead of V8's default
// saves ~10 MB of resident memory (BENCHMARKS.md, footprint). V8 reads this
// only at start-up, so the agent replaces itself once with the flag set.
const YOUNG_GENERATION_FLAG = "--max-semi-space-size=1";
if (
  process.argv[2] === "agent" &&
  typeof process.execve === "function" &&
  process.platform !== "win32" &&
  !process.execArgv.includes(YOUNG_GENERATION_FLAG)
) {
  process.execve(process.execPath, [process.execPath, YOUNG_GENERATION_FLAG, ...process.execArgv, ...process.argv.slice(1)], process.env);
}
await import("../src/main.ts");
