import { test } from "node:test";
import assert from "node:assert/strict";
import { Wakeup } from "./job-waits.ts";

test("a wakeup ends a wait early; one that came before the wait ends the next at once; else the time does", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const wakeup = new Wakeup();
  const never = new AbortController().signal;
  let ended = false;
  const waiting = wakeup.wait(60_000, never).then(() => (ended = true));
  await Promise.resolve();
  assert.equal(ended, false);
  wakeup.wake();
  await waiting;

  wakeup.wake();
  await wakeup.wait(60_000, never);

  ended = false;
  const timed = wakeup.wait(1_000, never).then(() => (ended = true));
  t.mock.timers.tick(999);
  await Promise.resolve();
  assert.equal(ended, false, "not before its time");
  t.mock.timers.tick(1);
  await timed;

  const stop = new AbortController();
  const aborted = wakeup.wait(60_000, stop.signal);
  stop.abort();
  await aborted;
});
