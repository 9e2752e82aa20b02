// Routing hints from headers and body: headers win, bad values are refused
// with the field named, and the explanation headers stay valid header text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FlotillaError } from "@flotilla/protocol";
import { dispatchHints, routeHeaders, routeHints } from "./route-hints.ts";
import type { ChosenRoute } from "../router/decision.ts";

test("a header beats the body; fallback defaults to allowed; the session comes from the header or `user`", () => {
  assert.deepEqual(routeHints({ prefer_tier: 2, user: "u1" }, {}), { forceTier: { tier: 2, fallback: true }, session: "u1" });
  assert.deepEqual(routeHints({ prefer_tier: 2, tier_fallback: false }, { "x-flotilla-tier": "0" }), { forceTier: { tier: 0, fallback: false } });
  assert.deepEqual(routeHints({}, { "x-flotilla-tier": " 1 ", "x-flotilla-tier-fallback": "FALSE", "x-flotilla-session": "s" }), {
    forceTier: { tier: 1, fallback: false },
    session: "s",
  });
  assert.deepEqual(routeHints({ user: "" }, {}), {});
});

test("bad hints are refused with 400 naming the header", () => {
  const refused = (fn: () => unknown, param: string) =>
    assert.throws(fn, (err: unknown) => err instanceof FlotillaError && err.status === 400 && err.param === param);
  refused(() => routeHints({}, { "x-flotilla-tier": "3" }), "X-Flotilla-Tier");
  refused(() => routeHints({}, { "x-flotilla-tier-fallback": "maybe" }), "X-Flotilla-Tier-Fallback");
  refused(() => routeHints({}, { "x-flotilla-session": "x".repeat(257) }), "X-Flotilla-Session");
});

test("failure handling and priority: header beats body beats the cluster's default; bad values named", () => {
  assert.deepEqual(dispatchHints({}, {}, false), { continueOnFailure: false, priority: "normal" });
  assert.deepEqual(dispatchHints({}, {}, true), { continueOnFailure: true, priority: "normal" });
  assert.deepEqual(dispatchHints({ continue_on_failure: false, priority: "low" }, {}, true), { continueOnFailure: false, priority: "low" });
  assert.deepEqual(
    dispatchHints({ continue_on_failure: false, priority: "low" }, { "x-flotilla-continue-on-failure": " TRUE ", "x-flotilla-priority": "High" }, false),
    { continueOnFailure: true, priority: "high" },
  );
  const refused = (fn: () => unknown, param: string) =>
    assert.throws(fn, (err: unknown) => err instanceof FlotillaError && err.status === 400 && err.param === param);
  refused(() => dispatchHints({}, { "x-flotilla-continue-on-failure": "yes" }, false), "X-Flotilla-Continue-On-Failure");
  refused(() => dispatchHints({}, { "x-flotilla-priority": "urgent" }, false), "X-Flotilla-Priority");
});

test("explanation headers carry only visible ASCII, at most 256 characters", () => {
  // The reason quotes model names, which come from users.
  const decision: ChosenRoute = {
    kind: "chosen", class: "SIMPLE", tier: 0, node: "n", model: "m", affinity: false, full: false, promptTokens: 1, neededTokens: 17, candidates: [],
    steps: [{ code: "planned", model: `modèle ${"é".repeat(300)}\n`, capability: "chat", needed: 17, tiers: [0, 1, 2] }],
  };
  const headers = routeHeaders(decision);
  assert.equal(headers["x-flotilla-node"], "n");
  assert.equal(headers["x-flotilla-tier"], "0");
  assert.match(headers["x-flotilla-route"] ?? "", /^[\x20-\x7e]{1,256}$/);
});
