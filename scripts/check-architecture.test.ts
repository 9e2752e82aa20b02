// The folder and workspace cycle check can fail: each test writes a small
// repository into a temporary folder and runs the check on it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { checkArchitecture, formatCycle } from "./check-architecture.ts";

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "check-architecture.ts");

/** A repository with workspaces apps/app (@x/app) and packages/lib (@x/lib), and the given files. */
function repository(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), "flotilla-architecture-"));
  const all: Record<string, string> = {
    "package.json": JSON.stringify({ workspaces: ["packages/lib", "apps/app"] }),
    "packages/lib/package.json": JSON.stringify({ name: "@x/lib" }),
    "apps/app/package.json": JSON.stringify({ name: "@x/app" }),
    ...files,
  };
  for (const [file, text] of Object.entries(all)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}

function withRepository(files: Record<string, string>, check: (root: string) => void): void {
  const root = repository(files);
  try {
    check(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test("two folders that import each other are a cycle, even through type-only imports and no file cycle", () => {
  withRepository({
    "apps/app/src/api/routes.ts": 'import { parse } from "../gateway/validate.ts";\nexport const routes = parse;\n',
    "apps/app/src/gateway/validate.ts": "export const parse = (): void => {};\n",
    "apps/app/src/gateway/server.ts": 'import type { routes } from "../api/routes.ts";\nexport type Routes = typeof routes;\n',
  }, (root) => {
    const cycles = checkArchitecture(root);
    assert.deepEqual(cycles, [{
      scope: "apps/app/src",
      members: ["api", "gateway"],
      edges: [
        { from: "api", to: "gateway", example: "api/routes.ts → gateway/validate.ts" },
        { from: "gateway", to: "api", example: "gateway/server.ts → api/routes.ts" },
      ],
    }]);
    assert.match(formatCycle(cycles[0] ?? assert.fail()), /apps\/app\/src: api and gateway import each other/);
  });
});

test("a cycle through three folders is reported once, with its members", () => {
  withRepository({
    "apps/app/src/a/a.ts": 'export * from "../b/b.ts";\n',
    "apps/app/src/b/b.ts": 'export { c } from "../c/c.ts";\n',
    "apps/app/src/c/c.ts": 'export const c = async (): Promise<unknown> => import("../a/a.ts");\n',
  }, (root) => {
    assert.deepEqual(checkArchitecture(root).map((c) => c.members), [["a", "b", "c"]]);
  });
});

test("the root of src/, tests and nested folders do not make a cycle", () => {
  withRepository({
    // The composition root imports every folder, and a folder may import a root helper.
    "apps/app/src/index.ts": 'import "./api/routes.ts";\nimport "./gateway/server.ts";\n',
    "apps/app/src/helper.ts": "export const helper = 1;\n",
    "apps/app/src/api/routes.ts": 'import "../gateway/server.ts";\nimport "../helper.ts";\n',
    "apps/app/src/gateway/server.ts": 'import "./tls/certs.ts";\n',
    "apps/app/src/gateway/tls/certs.ts": 'import "../server.ts";\n',
    // A test of the gateway that drives the API above it.
    "apps/app/src/gateway/server.test.ts": 'import "../api/routes.ts";\n',
  }, (root) => {
    assert.deepEqual(checkArchitecture(root), []);
  });
});

test("two workspaces that import each other, by name or by path, are a cycle", () => {
  withRepository({
    "packages/lib/src/index.ts": 'import { app } from "@x/app";\nexport const lib = app;\n',
    "apps/app/src/index.ts": 'import "../../../packages/lib/src/index.ts";\nexport const app = 1;\n',
  }, (root) => {
    assert.deepEqual(checkArchitecture(root), [{
      scope: "workspaces",
      members: ["apps/app", "packages/lib"],
      edges: [
        { from: "apps/app", to: "packages/lib", example: "apps/app/src/index.ts → ../../../packages/lib/src/index.ts" },
        { from: "packages/lib", to: "apps/app", example: "packages/lib/src/index.ts → @x/app" },
      ],
    }]);
  });
});

test("run as a script, it prints each cycle and exits 1; 0 and silent when there is none", () => {
  withRepository({
    "apps/app/src/one/x.ts": 'import "../two/y.ts";\n',
    "apps/app/src/two/y.ts": 'import "../one/x.ts";\n',
  }, (root) => {
    const failing = spawnSync(process.execPath, [SCRIPT, root], { encoding: "utf8" });
    assert.equal(failing.status, 1, failing.stderr);
    assert.match(failing.stderr, /apps\/app\/src: one and two import each other/);
    assert.match(failing.stderr, /one → two: one\/x\.ts → two\/y\.ts/);
  });
  withRepository({ "apps/app/src/one/x.ts": 'import "../two/y.ts";\n', "apps/app/src/two/y.ts": "" }, (root) => {
    const passing = spawnSync(process.execPath, [SCRIPT, root], { encoding: "utf8" });
    assert.equal(passing.status, 0, passing.stderr);
    assert.equal(passing.stderr, "");
  });
});
