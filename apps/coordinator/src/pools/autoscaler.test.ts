import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ROAMER_STATES, type RoamerDuration } from "@flotilla/protocol";
import { DEFAULT_AUTOSCALER_SETTINGS, planRoamers, type AutoscalerAction, type AutoscalerSettings, type PoolInput, type RoamerInput } from "./autoscaler.ts";

const NOW = 10_000_000;
const MINUTE = 60_000;

function pool(name: string, fields: Partial<PoolInput> = {}): PoolInput {
  return { name, templates: ["llama-8b"], releaseAfterMs: 5 * MINUTE, demand: 0, activeWorkers: 0, dedicated: 0, dedicatedReady: 0, lastLentAtMs: null, ...fields };
}

function idle(name: string, fields: Partial<RoamerInput> = {}): RoamerInput {
  return { name, state: "IDLE", ready: true, templates: ["llama-8b"], lending: null, busyAtMs: null, ...fields };
}

function lent(name: string, poolName: string, fields: Partial<RoamerInput> = {}, duration: RoamerDuration = "until-idle", lentAtMs = NOW - 10 * MINUTE): RoamerInput {
  return { ...idle(name), state: "RUNNING", lending: { pool: poolName, template: "llama-8b", duration, lentAtMs }, ...fields };
}

function plan(pools: readonly PoolInput[], roamers: readonly RoamerInput[], settings: AutoscalerSettings = DEFAULT_AUTOSCALER_SETTINGS): AutoscalerAction[] {
  return planRoamers({ pools, roamers, nowMs: NOW, settings });
}

function lend(roamer: string, poolName: string, reason: "overflow" | "burst" | "backup", template = "llama-8b"): AutoscalerAction {
  return { type: "lend", roamer, pool: poolName, template, reason };
}

function release(roamer: string, poolName: string, reason: "idle" | "expired"): AutoscalerAction {
  return { type: "release", roamer, pool: poolName, reason };
}

test("the defaults are those of the issue", () => {
  assert.deepEqual(DEFAULT_AUTOSCALER_SETTINGS, { overflowFactor: 2, cooldownMs: 30_000, maxRoamersPerPool: 8 });
});

// Overflow

test("overflow: demand above twice the capacity, nothing lent: a roamer is lent", () => {
  assert.deepEqual(plan([pool("chat", { demand: 5, activeWorkers: 2 })], [idle("r1")]), [lend("r1", "chat", "overflow")]);
});

test("overflow: demand of exactly twice the capacity is not overflow", () => {
  assert.deepEqual(plan([pool("chat", { demand: 4, activeWorkers: 2 })], [idle("r1")]), []);
});

test("overflow: a pool with no workers overflows at the first demand, and not without one", () => {
  assert.deepEqual(plan([pool("chat", { demand: 1 })], [idle("r1")]), [lend("r1", "chat", "overflow")]);
  assert.deepEqual(plan([pool("chat", { demand: 0 })], [idle("r1")]), []);
});

test("overflow: the first lend ignores the cooldown", () => {
  assert.deepEqual(plan([pool("chat", { demand: 9, activeWorkers: 1, lastLentAtMs: NOW })], [idle("r1")]), [lend("r1", "chat", "overflow")]);
});

test("overflow: the factor comes from the settings", () => {
  const settings = { ...DEFAULT_AUTOSCALER_SETTINGS, overflowFactor: 3 };
  assert.deepEqual(plan([pool("chat", { demand: 6, activeWorkers: 2 })], [idle("r1")], settings), []);
  assert.deepEqual(plan([pool("chat", { demand: 7, activeWorkers: 2 })], [idle("r1")], settings), [lend("r1", "chat", "overflow")]);
});

// Burst

test("burst: more demand while a lent roamer runs, cooldown passed: one more is lent", () => {
  const chat = pool("chat", { demand: 20, activeWorkers: 2, lastLentAtMs: NOW - 30_000 });
  assert.deepEqual(plan([chat], [lent("r1", "chat"), idle("r2")]), [lend("r2", "chat", "burst")]);
  assert.deepEqual(plan([{ ...chat, lastLentAtMs: null }], [lent("r1", "chat"), idle("r2")]), [lend("r2", "chat", "burst")]);
});

test("burst: the cooldown not yet passed blocks it", () => {
  const chat = pool("chat", { demand: 20, activeWorkers: 2, lastLentAtMs: NOW - 29_999 });
  assert.deepEqual(plan([chat], [lent("r1", "chat"), idle("r2")]), []);
});

test("burst: a roamer still pending (ASSIGNED or PROVISIONING) blocks another", () => {
  for (const state of ["ASSIGNED", "PROVISIONING"] as const) {
    const chat = pool("chat", { demand: 50, activeWorkers: 2 });
    assert.deepEqual(plan([chat], [lent("r1", "chat"), lent("r2", "chat", { state }), idle("r3")]), [], state);
  }
});

test("burst: a pending roamer counts in the capacity", () => {
  // 1 active + 1 pending = 2; demand 4 is not above 2 × 2, so no overflow either.
  const chat = pool("chat", { demand: 4, activeWorkers: 1 });
  assert.deepEqual(plan([chat], [lent("r1", "chat", { state: "PROVISIONING" }), idle("r2")]), []);
});

test("burst: no more than maxRoamersPerPool are lent to one pool", () => {
  const settings = { ...DEFAULT_AUTOSCALER_SETTINGS, maxRoamersPerPool: 2 };
  const chat = pool("chat", { demand: 50, activeWorkers: 2 });
  assert.deepEqual(plan([chat], [lent("r1", "chat"), lent("r2", "chat"), idle("r3")], settings), []);
  assert.deepEqual(plan([chat], [lent("r1", "chat"), idle("r3")], settings), [lend("r3", "chat", "burst")]);
});

test("burst: demand not above the factor lends nothing more", () => {
  assert.deepEqual(plan([pool("chat", { demand: 4, activeWorkers: 2 })], [lent("r1", "chat"), idle("r2")]), []);
});

// Backup

test("backup: a pool whose own nodes are all down gets a roamer at once, without demand or cooldown", () => {
  const chat = pool("chat", { dedicated: 2, dedicatedReady: 0, lastLentAtMs: NOW });
  assert.deepEqual(plan([chat], [idle("r1")]), [lend("r1", "chat", "backup")]);
});

test("backup: not when one of its nodes is ready, nor when it has none of its own", () => {
  assert.deepEqual(plan([pool("chat", { dedicated: 2, dedicatedReady: 1 })], [idle("r1")]), []);
  assert.deepEqual(plan([pool("chat", { dedicated: 0, dedicatedReady: 0 })], [idle("r1")]), []);
});

test("backup: not when a roamer is already lent to it, even one still provisioning", () => {
  const chat = pool("chat", { dedicated: 2, dedicatedReady: 0 });
  assert.deepEqual(plan([chat], [lent("r1", "chat", { state: "PROVISIONING" }), idle("r2")]), []);
});

test("backup beats the overflow of another pool", () => {
  const busy = pool("a-busy", { demand: 100 });
  const down = pool("z-down", { dedicated: 1, dedicatedReady: 0 });
  assert.deepEqual(plan([busy, down], [idle("r1")]), [lend("r1", "z-down", "backup")]);
});

// Candidates and choice

test("the template is the first of the pool's templates that the roamer lists", () => {
  const chat = pool("chat", { demand: 1, templates: ["qwen-32b", "llama-8b", "phi-3"] });
  assert.deepEqual(plan([chat], [idle("r1", { templates: ["phi-3", "llama-8b"] })]), [lend("r1", "chat", "overflow", "llama-8b")]);
});

test("a roamer that lists none of the pool's templates is not lent; the next one that does is", () => {
  const chat = pool("chat", { demand: 1 });
  assert.deepEqual(plan([chat], [idle("r1", { templates: ["sdxl"] })]), []);
  assert.deepEqual(plan([chat], [idle("r1", { templates: ["sdxl"] }), idle("r2")]), [lend("r2", "chat", "overflow")]);
});

test("a roamer that is not ready is skipped", () => {
  const chat = pool("chat", { demand: 1 });
  assert.deepEqual(plan([chat], [idle("r1", { ready: false })]), []);
  assert.deepEqual(plan([chat], [idle("r1", { ready: false }), idle("r2")]), [lend("r2", "chat", "overflow")]);
});

test("a roamer that is not IDLE is never lent", () => {
  for (const state of ["ASSIGNED", "PROVISIONING", "RUNNING", "CLEANUP"] as const) {
    assert.deepEqual(plan([pool("chat", { demand: 1 })], [idle("r1", { state })]), [], state);
  }
});

test("candidates go by name, whatever order they come in", () => {
  assert.deepEqual(plan([pool("chat", { demand: 1 })], [idle("r3"), idle("r1"), idle("r2")]), [lend("r1", "chat", "overflow")]);
});

test("at most one lend per pool in a plan, however backed up it is", () => {
  assert.deepEqual(plan([pool("chat", { demand: 1_000 })], [idle("r1"), idle("r2"), idle("r3")]), [lend("r1", "chat", "overflow")]);
});

test("two pools competing for one roamer: the more backed-up one gets it", () => {
  const a = pool("a", { demand: 5, activeWorkers: 2 }); // 2.5
  const b = pool("b", { demand: 9, activeWorkers: 3 }); // 3
  assert.deepEqual(plan([a, b], [idle("r1")]), [lend("r1", "b", "overflow")]);
  const empty = pool("c", { demand: 1 }); // capacity 0: infinitely backed up
  assert.deepEqual(plan([a, b, empty], [idle("r1")]), [lend("r1", "c", "overflow")]);
});

test("pools equally backed up are served by name, and each roamer goes to one pool", () => {
  const pools = [pool("b", { demand: 3 }), pool("a", { demand: 3 })];
  assert.deepEqual(plan(pools, [idle("r1")]), [lend("r1", "a", "overflow")]);
  assert.deepEqual(plan(pools, [idle("r2"), idle("r1")]), [lend("r1", "a", "overflow"), lend("r2", "b", "overflow")]);
});

test("a pool that no candidate fits does not keep the roamer from the next pool", () => {
  const first = pool("first", { demand: 9, templates: ["sdxl"] });
  const second = pool("second", { demand: 1 });
  assert.deepEqual(plan([first, second], [idle("r1")]), [lend("r1", "second", "overflow")]);
});

test("a roamer in CLEANUP is not lent to its pool any more: the pool may overflow onto another", () => {
  const chat = pool("chat", { demand: 1 });
  assert.deepEqual(plan([chat], [lent("r1", "chat", { state: "CLEANUP" }), idle("r2")]), [lend("r2", "chat", "overflow")]);
});

// Releasing

test("expired: a roamer lent for some minutes goes back when they are up, in any lent state", () => {
  const chat = pool("chat", { demand: 0 });
  const due = NOW - 30 * MINUTE;
  for (const state of ["ASSIGNED", "PROVISIONING", "RUNNING"] as const) {
    assert.deepEqual(plan([chat], [lent("r1", "chat", { state }, { minutes: 30 }, due)]), [release("r1", "chat", "expired")], state);
  }
  assert.deepEqual(plan([chat], [lent("r1", "chat", {}, { minutes: 30 }, due + 1)]), []);
});

test("expired: even while its pool has demand, or its pool's own nodes are down", () => {
  const chat = pool("chat", { demand: 50, activeWorkers: 1, dedicated: 1, dedicatedReady: 0 });
  const actions = plan([chat], [lent("r1", "chat", {}, { minutes: 5 }, NOW - 5 * MINUTE)]);
  assert.deepEqual(actions, [release("r1", "chat", "expired")]);
});

test("a released roamer no longer counts as lent: the pool that still needs help gets another", () => {
  const chat = pool("chat", { demand: 50, activeWorkers: 1, lastLentAtMs: NOW });
  const actions = plan([chat], [lent("r1", "chat", {}, { minutes: 5 }, NOW - 5 * MINUTE), idle("r2")]);
  assert.deepEqual(actions, [release("r1", "chat", "expired"), lend("r2", "chat", "overflow")]);
});

test("idle: a running roamer its pool left idle for releaseAfterMs goes back", () => {
  const chat = pool("chat", { demand: 0, activeWorkers: 1, releaseAfterMs: 5 * MINUTE });
  assert.deepEqual(plan([chat], [lent("r1", "chat", { busyAtMs: NOW - 5 * MINUTE })]), [release("r1", "chat", "idle")]);
  assert.deepEqual(plan([chat], [lent("r1", "chat", { busyAtMs: NOW - 5 * MINUTE + 1 })]), []);
});

test("idle: never busy since it was lent counts from the lend", () => {
  const chat = pool("chat", { releaseAfterMs: 5 * MINUTE });
  assert.deepEqual(plan([chat], [lent("r1", "chat", { busyAtMs: null }, "until-idle", NOW - 5 * MINUTE)]), [release("r1", "chat", "idle")]);
  assert.deepEqual(plan([chat], [lent("r1", "chat", { busyAtMs: null }, "until-idle", NOW - MINUTE)]), []);
});

test("idle: blocked while its pool has demand", () => {
  const chat = pool("chat", { demand: 1, activeWorkers: 1 });
  assert.deepEqual(plan([chat], [lent("r1", "chat", { busyAtMs: NOW - 60 * MINUTE })]), []);
});

test("idle: blocked while it is its pool's backup", () => {
  const chat = pool("chat", { demand: 0, activeWorkers: 1, dedicated: 2, dedicatedReady: 0 });
  assert.deepEqual(plan([chat], [lent("r1", "chat", { busyAtMs: NOW - 60 * MINUTE })]), []);
});

test("idle: only a RUNNING roamer is released for idleness", () => {
  for (const state of ["ASSIGNED", "PROVISIONING"] as const) {
    assert.deepEqual(plan([pool("chat")], [lent("r1", "chat", { state, busyAtMs: NOW - 60 * MINUTE })]), [], state);
  }
});

test("idle: a roamer lent until idle to a pool no longer configured goes back at once", () => {
  for (const state of ["ASSIGNED", "PROVISIONING", "RUNNING"] as const) {
    assert.deepEqual(plan([], [lent("r1", "gone", { state, busyAtMs: NOW })]), [release("r1", "gone", "idle")], state);
  }
});

test("manual: never released by the autoscaler, however long idle, even from a removed pool", () => {
  const old = NOW - 10_000 * MINUTE;
  assert.deepEqual(plan([pool("chat")], [lent("r1", "chat", { busyAtMs: old }, "manual", old)]), []);
  assert.deepEqual(plan([], [lent("r1", "gone", { busyAtMs: old }, "manual", old)]), []);
});

test("roamers not lent (IDLE, CLEANUP) are never released", () => {
  assert.deepEqual(plan([pool("chat")], [idle("r1"), lent("r2", "chat", { state: "CLEANUP", busyAtMs: 0 }, { minutes: 1 }, 0)]), []);
});

// Invariants over random inputs

const POOLS = ["a", "b", "c"];
const TEMPLATES = ["t1", "t2", "t3"];

const poolArb = fc.record({
  name: fc.constantFrom(...POOLS),
  templates: fc.uniqueArray(fc.constantFrom(...TEMPLATES), { maxLength: 3 }),
  releaseAfterMs: fc.integer({ min: 0, max: 10 * MINUTE }),
  demand: fc.integer({ min: 0, max: 30 }),
  activeWorkers: fc.integer({ min: 0, max: 6 }),
  dedicated: fc.integer({ min: 0, max: 3 }),
  dedicatedReady: fc.integer({ min: 0, max: 3 }),
  lastLentAtMs: fc.option(fc.integer({ min: NOW - 2 * MINUTE, max: NOW }), { nil: null }),
});

const durationArb: fc.Arbitrary<RoamerDuration> = fc.oneof(
  fc.constant("until-idle" as const),
  fc.constant("manual" as const),
  fc.record({ minutes: fc.integer({ min: 1, max: 20 }) }),
);

const lendingArb = fc.record({
  pool: fc.constantFrom(...POOLS, "gone"),
  template: fc.constantFrom(...TEMPLATES),
  duration: durationArb,
  lentAtMs: fc.integer({ min: NOW - 30 * MINUTE, max: NOW }),
});

// Half of them IDLE, so that lends are common; the state machine keeps
// lending null exactly when IDLE, and so does the input.
const roamerArb: fc.Arbitrary<RoamerInput> = fc
  .record({
    name: fc.constantFrom("r1", "r2", "r3", "r4", "r5", "r6"),
    state: fc.oneof(fc.constant("IDLE" as const), fc.constantFrom(...ROAMER_STATES)),
    ready: fc.boolean(),
    templates: fc.uniqueArray(fc.constantFrom(...TEMPLATES), { maxLength: 3 }),
    lending: lendingArb,
    busyAtMs: fc.option(fc.integer({ min: NOW - 30 * MINUTE, max: NOW }), { nil: null }),
  })
  .map((roamer) => (roamer.state === "IDLE" ? { ...roamer, lending: null } : roamer));

const inputArb = fc.record({
  pools: fc.uniqueArray(poolArb, { selector: (p) => p.name, maxLength: 3 }),
  roamers: fc.uniqueArray(roamerArb, { selector: (r) => r.name, maxLength: 6 }),
  settings: fc.record({
    overflowFactor: fc.double({ min: 0.5, max: 3, noNaN: true }),
    cooldownMs: fc.integer({ min: 0, max: MINUTE }),
    maxRoamersPerPool: fc.integer({ min: 0, max: 3 }),
  }),
});

test("over random inputs: every action names a roamer it may, and no roamer or pool twice", () => {
  fc.assert(
    fc.property(inputArb, ({ pools, roamers, settings }) => {
      const actions = planRoamers({ pools, roamers, nowMs: NOW, settings });
      const named = actions.map((action) => action.roamer);
      assert.equal(new Set(named).size, named.length, "a roamer appears in two actions");
      const lends = actions.filter((action) => action.type === "lend");
      assert.equal(new Set(lends.map((action) => action.pool)).size, lends.length, "two lends to one pool");
      for (const action of actions) {
        const roamer = roamers.find((r) => r.name === action.roamer);
        assert.ok(roamer, `${action.roamer} is not an input roamer`);
        if (action.type === "lend") {
          const target = pools.find((p) => p.name === action.pool);
          assert.ok(target, `lent to ${action.pool}, not an input pool`);
          assert.equal(roamer.state, "IDLE");
          assert.ok(roamer.ready);
          assert.ok(roamer.templates.includes(action.template));
          assert.ok(target.templates.includes(action.template));
        } else {
          assert.ok(["ASSIGNED", "PROVISIONING", "RUNNING"].includes(roamer.state), `released a ${roamer.state} roamer`);
          assert.equal(action.pool, roamer.lending?.pool);
          assert.notEqual(roamer.lending?.duration, "manual");
        }
      }
    }),
    { numRuns: 500 },
  );
});

test("over random inputs: the plan does not depend on the order of pools or roamers", () => {
  const reordered = inputArb.chain((input) =>
    fc.record({
      input: fc.constant(input),
      pools: fc.shuffledSubarray(input.pools, { minLength: input.pools.length }),
      roamers: fc.shuffledSubarray(input.roamers, { minLength: input.roamers.length }),
    }),
  );
  fc.assert(
    fc.property(reordered, ({ input, pools, roamers }) => {
      const plain = planRoamers({ ...input, nowMs: NOW });
      assert.deepEqual(planRoamers({ pools, roamers, settings: input.settings, nowMs: NOW }), plain);
    }),
  );
});
