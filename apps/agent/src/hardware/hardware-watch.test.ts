// When the agent sends its hardware again: after a meaningful change, and
// after the coordinator may have forgotten it — never for ordinary churn.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { HardwareInfo } from "@flotilla/protocol";
import { HardwareWatch } from "./hardware-watch.ts";

const GIB = 2 ** 30;
const base: HardwareInfo = {
  cpu: { model: "x", physicalCores: 4, logicalCores: 8, flags: ["avx2"] },
  memory: { totalBytes: 16 * GIB, availableBytes: 8 * GIB },
  gpus: [],
  disk: { path: "/models", freeBytes: 100 * GIB },
  os: { platform: "linux", release: "6.1", arch: "x64", distro: "Debian" },
  jetson: null,
  hardwareType: "cpu",
};

test("a report goes out once per meaningful change, and again after the coordinator may have forgotten it", async () => {
  let next: HardwareInfo = base;
  const watch = new HardwareWatch(base, () => Promise.resolve(next), { everyMs: 60_000, onError: assert.ifError });
  assert.equal(watch.pending(), base, "nothing delivered yet");
  watch.delivered(base);
  assert.equal(watch.pending(), undefined);

  next = { ...base, memory: { ...base.memory, availableBytes: 3 * GIB }, disk: { ...base.disk, freeBytes: 100 * GIB + 5 } };
  await watch.refresh();
  assert.equal(watch.pending(), undefined, "free RAM and a few bytes of disk are not news");

  next = { ...base, gpus: [{ vendor: "nvidia", model: "RTX 3060", memoryTotalBytes: 12 * GIB, memoryFreeBytes: 11 * GIB, unifiedMemory: false }], hardwareType: "nvidia" };
  await watch.refresh();
  assert.equal(watch.pending()?.hardwareType, "nvidia", "a new GPU is");
  watch.delivered(next);
  assert.equal(watch.pending(), undefined);

  watch.forget();
  assert.equal(watch.pending()?.hardwareType, "nvidia");
});
