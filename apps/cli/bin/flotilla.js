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
await import("../src/main.ts");
