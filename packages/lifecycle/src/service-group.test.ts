// What the start-up of the coordinator and the agent rely on: services start
// in order and stop in reverse, a failed start undoes what had started, stop
// runs once, and every service is stopped even when some fail to. No timers:
// the services are driven by hand-resolved promises, so the order asserted is
// the order of events, not of luck.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ServiceGroup } from "./service-group.ts";
import { alreadyOpen, type Service } from "./service.ts";

/** A service that writes what happens to it into `log`, failing where told. */
function recorded(name: string, log: string[], fail: { start?: Error; stop?: Error } = {}): Service {
  return {
    name,
    start: () => {
      log.push(`start ${name}`);
      if (fail.start) throw fail.start;
    },
    stop: async () => {
      log.push(`stop ${name}`);
      await Promise.resolve();
      if (fail.stop) throw fail.stop;
    },
  };
}

/** A service whose start and stop wait until the test lets them finish. */
function held(name: string, log: string[]) {
  const began = Promise.withResolvers<void>();
  const started = Promise.withResolvers<void>();
  const stopped = Promise.withResolvers<void>();
  const service: Service = {
    name,
    start: () => {
      log.push(`start ${name}`);
      began.resolve();
      return started.promise;
    },
    stop: () => {
      log.push(`stop ${name}`);
      return stopped.promise;
    },
  };
  return { service, began, started, stopped };
}

test("services start in order, stage after stage, and stop in the reverse order", async () => {
  const log: string[] = [];
  const group = new ServiceGroup();
  await group.start([recorded("store", log), recorded("pool", log)]);
  await group.start([recorded("prober", log)]);
  await group.stop();
  assert.deepEqual(log, ["start store", "start pool", "start prober", "stop prober", "stop pool", "stop store"]);
});

test("an asynchronous start is awaited before the next service starts", async () => {
  const log: string[] = [];
  const group = new ServiceGroup();
  const slow = held("listener", log);
  const starting = group.start([slow.service, recorded("discovery", log)]);
  await slow.began.promise;
  assert.deepEqual(log, ["start listener"], "discovery waits for the listener");
  slow.started.resolve();
  await starting;
  assert.deepEqual(log, ["start listener", "start discovery"]);
});

test("a failed start stops what had started, earlier stages included, and rejects with its own error", async () => {
  const log: string[] = [];
  const group = new ServiceGroup();
  const refused = new Error("EADDRINUSE");
  await group.start([recorded("store", log)]);
  await assert.rejects(group.start([recorded("pool", log), recorded("listener", log, { start: refused }), recorded("never", log)]), (err) => err === refused);
  assert.deepEqual(log, ["start store", "start pool", "start listener", "stop pool", "stop store"]);
  await group.stop();
  assert.equal(log.length, 5, "a stop after the rollback has nothing left to stop");
  await assert.rejects(group.start([recorded("late", log)]), /late was not started: its service group is stopping/);
});

test("a failed start whose rollback fails too reports both", async () => {
  const log: string[] = [];
  const group = new ServiceGroup();
  const refused = new Error("no socket");
  const stuck = new Error("pool would not close");
  await assert.rejects(group.start([recorded("pool", log, { stop: stuck }), recorded("discovery", log, { start: refused })]), (err) => {
    assert.ok(err instanceof AggregateError);
    assert.deepEqual(err.errors, [refused, stuck]);
    assert.equal(err.message, "2 services failed: discovery (start): no socket; pool (stop): pool would not close");
    return true;
  });
});

test("stop is idempotent: the services stop once, and every call gets the same outcome", async () => {
  const log: string[] = [];
  const group = new ServiceGroup();
  const slow = held("prober", log);
  const starting = group.start([recorded("store", log), slow.service]);
  slow.started.resolve();
  await starting;
  const first = group.stop();
  const second = group.stop();
  assert.equal(first, second);
  slow.stopped.resolve();
  await first;
  await group.stop();
  assert.deepEqual(log, ["start store", "start prober", "stop prober", "stop store"]);
});

test("a failing stop does not keep the others running; one failure is rethrown as it is", async () => {
  const log: string[] = [];
  const group = new ServiceGroup();
  const failed = new Error("goodbye not sent");
  await group.start([recorded("store", log), recorded("discovery", log, { stop: failed }), recorded("heartbeats", log)]);
  await assert.rejects(group.stop(), (err) => err === failed);
  assert.deepEqual(log.slice(3), ["stop heartbeats", "stop discovery", "stop store"]);
  await assert.rejects(group.stop(), (err) => err === failed, "a later call reports the same outcome");
});

test("several failing stops are reported together, each named, latest first", async () => {
  const log: string[] = [];
  const group = new ServiceGroup();
  const a = new Error("a broke");
  const c = new Error("c broke");
  await group.start([recorded("a", log, { stop: a }), recorded("b", log), recorded("c", log, { stop: c })]);
  await assert.rejects(group.stop(), (err) => {
    assert.ok(err instanceof AggregateError);
    assert.deepEqual(err.errors, [c, a]);
    assert.equal(err.message, "2 services failed: c (stop): c broke; a (stop): a broke");
    return true;
  });
  assert.deepEqual(log.slice(3), ["stop c", "stop b", "stop a"]);
});

test("a stop asked for while a stage starts waits for it, then stops; the stage starts nothing more", async () => {
  const log: string[] = [];
  const group = new ServiceGroup();
  const slow = held("listener", log);
  const starting = group.start([slow.service, recorded("discovery", log)]);
  await slow.began.promise;
  const stopping = group.stop();
  slow.stopped.resolve();
  slow.started.resolve();
  await assert.rejects(starting, /discovery was not started: its service group is stopping/);
  await stopping;
  assert.deepEqual(log, ["start listener", "stop listener"]);
});

test("a stage asked for after the stop starts nothing", async () => {
  const log: string[] = [];
  const group = new ServiceGroup();
  const stopping = group.stop();
  await assert.rejects(group.start([recorded("late", log)]), /late was not started/);
  await stopping;
  assert.deepEqual(log, []);
});

test("alreadyOpen: nothing to start, its close is the stop", async () => {
  const log: string[] = [];
  const group = new ServiceGroup();
  await group.start([alreadyOpen("store", () => void log.push("closed store")), alreadyOpen("app", () => Promise.resolve(log.push("closed app")))]);
  assert.deepEqual(log, []);
  await group.stop();
  assert.deepEqual(log, ["closed app", "closed store"]);
});
