// Which node takes which pool's work (issue 17, docs/adr/0040). The router
// asks it for every request (as RouterPools); the roamer controller tells it
// which roamer is lent where. No I/O: a declared pool list and a map.
//
// The rules, in order:
//   - a node takes the work of its effective pool: its own (--pool, the
//     cluster file), or for a roamer the pool it is lent to; a roamer lent
//     to none takes nothing (it sits clean and idle);
//   - work is held to a pool only when that pool is declared in the cluster
//     file: a job's pool, else the first declared pool whose kinds include
//     the work's kind. Work held to no pool goes to any node but idle roamers,
//     so a cluster file without `pools` routes as it always did.
import { ROAMER_POOL, type NodeStatus, type JobKind } from "@flotilla/protocol";
import type { ClusterPool, ClusterTemplate } from "../config/cluster-file-pools.ts";

export interface PoolDeclarations {
  pools: Readonly<Record<string, ClusterPool>>;
  templates: Readonly<Record<string, ClusterTemplate>>;
}

export class PoolBook {
  readonly #pools: ReadonlyMap<string, ClusterPool>;
  readonly #templates: ReadonlyMap<string, ClusterTemplate>;
  /** Roamer node → the pool it is lent to. */
  readonly #lent = new Map<string, string>();
  #version = 0;

  constructor(declarations: PoolDeclarations) {
    this.#pools = new Map(Object.entries(declarations.pools));
    this.#templates = new Map(Object.entries(declarations.templates));
  }

  /** Changes whenever a roamer is lent or comes back: the router rebuilds its pool snapshots. */
  get version(): number {
    return this.#version;
  }

  /** The declared pools, in the file's order. */
  declared(): string[] {
    return [...this.#pools.keys()];
  }

  pool(name: string): ClusterPool | undefined {
    return this.#pools.get(name);
  }

  template(name: string): ClusterTemplate | undefined {
    return this.#templates.get(name);
  }

  /** The first declared pool that takes this kind of work. */
  poolForKind(kind: JobKind): string | undefined {
    for (const [name, pool] of this.#pools) if ((pool.kinds as readonly JobKind[]).includes(kind)) return name;
    return undefined;
  }

  target(named: string | undefined, kind: JobKind): string | undefined {
    if (named !== undefined) return this.#pools.has(named) ? named : undefined;
    return this.poolForKind(kind);
  }

  admits(node: NodeStatus, pool: string | undefined): boolean {
    const effective = this.effectivePool(node);
    if (effective === null) return false;
    return pool === undefined || effective === pool;
  }

  /** The pool whose work the node takes now; null for a roamer lent to none. */
  effectivePool(node: Pick<NodeStatus, "name" | "pool">): string | null {
    if (node.pool !== ROAMER_POOL) return node.pool;
    return this.#lent.get(node.name) ?? null;
  }

  lend(node: string, pool: string): void {
    if (this.#lent.get(node) === pool) return;
    this.#lent.set(node, pool);
    this.#version += 1;
  }

  unlend(node: string): void {
    if (this.#lent.delete(node)) this.#version += 1;
  }

  lentTo(node: string): string | undefined {
    return this.#lent.get(node);
  }
}
