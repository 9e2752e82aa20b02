// Detection on this very machine, checked against what the OS itself says,
// and again with no vendor tools on PATH at all: it must still answer.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { hardwareInfo } from "@flotilla/protocol";
import { detectHardware, summarise } from "./detect.ts";
import { parseProcCpuinfo } from "./parse.ts";

describe("detectHardware", () => {
  test("reports this machine as the OS sees it, in the protocol's shape", async () => {
    const info = await detectHardware({ modelDir: "/nonexistent/models/dir" });
    assert.equal(hardwareInfo.safeParse(info).success, true);
    assert.equal(info.cpu.logicalCores, os.cpus().length);
    assert.equal(info.memory.totalBytes, os.totalmem());
    assert.ok(info.memory.availableBytes > 0 && info.memory.availableBytes <= info.memory.totalBytes);
    assert.equal(info.os.arch, os.arch());
    // The nearest existing parent ("/") has free space.
    assert.ok((info.disk.freeBytes ?? 0) > 0);
    if (os.platform() === "linux") {
      const expected = parseProcCpuinfo(readFileSync("/proc/cpuinfo", "utf8")).flags;
      assert.deepEqual(new Set(info.cpu.flags), new Set(expected));
    }
    const hasNvidiaSmi = spawnSync("nvidia-smi", ["-L"]).status === 0;
    if (!hasNvidiaSmi && info.gpus.length === 0) assert.equal(info.hardwareType, "cpu");
  });

  test("absent vendor tools yield less, never an error", async () => {
    const saved = process.env.PATH;
    process.env.PATH = "/nonexistent";
    try {
      const info = await detectHardware({ modelDir: "." });
      assert.equal(info.gpus.filter((g) => !g.unifiedMemory).length, 0);
      assert.ok(info.cpu.logicalCores >= 1);
    } finally {
      process.env.PATH = saved;
    }
  });

  test("the summary names the strongest accelerator present", () => {
    const gpu = (vendor: "nvidia" | "amd" | "apple" | "intel") => ({
      vendor,
      model: "x",
      memoryTotalBytes: null,
      memoryFreeBytes: null,
      unifiedMemory: false,
    });
    assert.equal(summarise([]), "cpu");
    assert.equal(summarise([gpu("intel")]), "cpu");
    assert.equal(summarise([gpu("amd")]), "amd");
    assert.equal(summarise([gpu("amd"), gpu("nvidia")]), "nvidia");
    assert.equal(summarise([gpu("apple")]), "apple_silicon");
  });
});
