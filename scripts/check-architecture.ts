// The architecture checks that ESLint cannot express (ADR 0015): no import
// cycle between the top-level folders of a workspace's src/ (say api ↔
// gateway), nor between workspaces. `npm run lint` runs it after ESLint.
//
// ESLint's import-x/no-cycle sees files, and only value imports. A folder
// cycle needs no file cycle (gateway/app.ts → api/x.ts → gateway/validate.ts
// is none), and type-only imports count here: erased at run time, they are
// still a dependency of design, and `router → dispatch` was one.
//
// Tests are left out: nothing imports a test, and a test may sit beside the
// unit it is about while pulling in a layer above it to drive it. Files at
// the root of src/ (index.ts, app.ts) are the composition root, in no folder:
// they may import every folder.
//
// Usage: node scripts/check-architecture.ts [ROOT]   (default: this repository)
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/** A dependency between two folders (or workspaces), with the first import that makes it. */
export interface Edge {
  from: string;
  to: string;
  /** `importing file → imported file`, relative to the scope. */
  example: string;
}

/** Folders (or workspaces) that reach one another through their imports. */
export interface Cycle {
  /** The src/ folder the folders are in, or "workspaces"; relative to the root. */
  scope: string;
  members: string[];
  /** Every dependency between two members, which is what has to change. */
  edges: Edge[];
}

interface Workspace {
  dir: string;
  name: string;
}

/** Every cycle in the tree at `root` (a repository with npm workspaces); empty when there is none. */
export function checkArchitecture(root: string): Cycle[] {
  const workspaces = workspacesOf(root);
  const cycles: Cycle[] = [];
  for (const workspace of workspaces) {
    const src = path.join(root, workspace.dir, "src");
    if (existsSync(src)) cycles.push(...folderCycles(src, path.join(workspace.dir, "src")));
  }
  cycles.push(...workspaceCycles(root, workspaces));
  return cycles;
}

/** Cycles between the top-level folders of one src/ directory. */
export function folderCycles(src: string, scope: string): Cycle[] {
  const graph = new Graph();
  for (const file of sourceFiles(src)) {
    const from = topFolder(src, file);
    if (from === undefined) continue;
    for (const specifier of importsOf(file)) {
      if (!specifier.startsWith(".")) continue;
      const target = path.resolve(path.dirname(file), specifier);
      const to = topFolder(src, target);
      if (to === undefined || to === from) continue;
      graph.add(from, to, `${path.relative(src, file)} → ${path.relative(src, target)}`);
    }
  }
  return graph.cycles(scope);
}

/** Cycles between workspaces, by package name (`@flotilla/agent`) or by a relative path into another one. */
export function workspaceCycles(root: string, workspaces: readonly Workspace[]): Cycle[] {
  const graph = new Graph();
  const owner = (file: string): Workspace | undefined =>
    workspaces.find((w) => !path.relative(path.join(root, w.dir), file).startsWith(".."));
  for (const workspace of workspaces) {
    const dir = path.join(root, workspace.dir);
    for (const file of sourceFiles(dir)) {
      for (const specifier of importsOf(file)) {
        const to = specifier.startsWith(".")
          ? owner(path.resolve(path.dirname(file), specifier))
          : workspaces.find((w) => specifier === w.name || specifier.startsWith(`${w.name}/`));
        if (to === undefined || to === workspace) continue;
        graph.add(workspace.dir, to.dir, `${path.relative(root, file)} → ${specifier}`);
      }
    }
  }
  return graph.cycles("workspaces");
}

export function formatCycle(cycle: Cycle): string {
  const what = cycle.members.length === 2
    ? `${cycle.members.join(" and ")} import each other`
    : `${cycle.members.join(", ")} import one another in a cycle`;
  const lines = cycle.edges.map((e) => `    ${e.from} → ${e.to}: ${e.example}`);
  return [`${cycle.scope}: ${what} (docs/adr/0015); the dependencies between them:`, ...lines].join("\n");
}

function workspacesOf(root: string): Workspace[] {
  const manifest = readJson(path.join(root, "package.json"));
  const dirs = Array.isArray(manifest.workspaces) ? manifest.workspaces.filter((d): d is string => typeof d === "string") : [];
  return dirs.map((dir) => {
    const name = readJson(path.join(root, dir, "package.json")).name;
    return { dir, name: typeof name === "string" ? name : dir };
  });
}

function readJson(file: string): Record<string, unknown> {
  const value: unknown = JSON.parse(readFileSync(file, "utf8"));
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}

/** The non-test TypeScript and JavaScript files under `dir`, in a stable order so that examples are too. */
function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    // A workspace's own node_modules holds other projects' code, not ours.
    if (entry.isDirectory() && entry.name !== "node_modules") files.push(...sourceFiles(full));
    else if (entry.isFile() && /\.(ts|js)$/.test(entry.name) && !/\.test\.(ts|js)$/.test(entry.name)) files.push(full);
  }
  return files;
}

/** Every module a file names: imports (type-only too), re-exports, import() and import types. */
function importsOf(file: string): string[] {
  return ts.preProcessFile(readFileSync(file, "utf8"), true, true).importedFiles.map((f) => f.fileName);
}

/** The folder directly under `src` that holds `file`; undefined at the root of src/ or outside it. */
function topFolder(src: string, file: string): string | undefined {
  const parts = path.relative(src, file).split(path.sep);
  if (parts.length < 2 || parts[0] === "..") return undefined;
  return parts[0];
}

class Graph {
  readonly #edges = new Map<string, Map<string, string>>();

  add(from: string, to: string, example: string): void {
    let out = this.#edges.get(from);
    if (!out) this.#edges.set(from, (out = new Map<string, string>()));
    if (!out.has(to)) out.set(to, example);
  }

  /** The strongly connected components of more than one node (Tarjan), each with its inner edges. */
  cycles(scope: string): Cycle[] {
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const components: string[][] = [];
    const visit = (node: string): void => {
      index.set(node, index.size);
      low.set(node, index.get(node) ?? 0);
      stack.push(node);
      onStack.add(node);
      for (const next of this.#edges.get(node)?.keys() ?? []) {
        if (!index.has(next)) {
          visit(next);
          low.set(node, Math.min(low.get(node) ?? 0, low.get(next) ?? 0));
        } else if (onStack.has(next)) {
          low.set(node, Math.min(low.get(node) ?? 0, index.get(next) ?? 0));
        }
      }
      if (low.get(node) !== index.get(node)) return;
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop();
        if (member === undefined) break;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) components.push(component.sort());
    };
    for (const node of [...this.#edges.keys()].sort()) if (!index.has(node)) visit(node);
    return components.map((members) => ({
      scope,
      members,
      edges: members.flatMap((from) =>
        [...(this.#edges.get(from) ?? [])]
          .filter(([to]) => members.includes(to))
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([to, example]) => ({ from, to, example })),
      ),
    }));
  }
}

if (import.meta.main) {
  const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), ".."));
  const cycles = checkArchitecture(root);
  for (const cycle of cycles) console.error(formatCycle(cycle));
  if (cycles.length > 0) process.exitCode = 1;
}
