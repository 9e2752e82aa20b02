// The parsers, fed output in the exact formats the tools print (captured
// from real machines, trimmed), including the cases that used to break
// detectors: "[N/A]" memory on Jetson, ROCm's renamed keys, ARM feature names.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  parseDarwinFeatures,
  parseJetsonModel,
  parseMeminfo,
  parseNvidiaSmi,
  parseOsRelease,
  parseProcCpuinfo,
  parseRocmSmi,
} from "./parse.ts";

const X86_CPUINFO = `processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Core(TM) i5-4590 CPU @ 3.30GHz
physical id\t: 0
core id\t\t: 0
flags\t\t: fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2

processor\t: 1
model name\t: Intel(R) Core(TM) i5-4590 CPU @ 3.30GHz
physical id\t: 0
core id\t\t: 1
flags\t\t: fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2

processor\t: 2
model name\t: Intel(R) Core(TM) i5-4590 CPU @ 3.30GHz
physical id\t: 0
core id\t\t: 0
flags\t\t: fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2
`;

const ARM_CPUINFO = `processor\t: 0
BogoMIPS\t: 62.50
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp
CPU implementer\t: 0x41

processor\t: 1
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp
`;

describe("hardware parsers", () => {
  test("x86 /proc/cpuinfo: model, physical cores from (physical id, core id), flags", () => {
    const info = parseProcCpuinfo(X86_CPUINFO);
    assert.equal(info.model, "Intel(R) Core(TM) i5-4590 CPU @ 3.30GHz");
    assert.equal(info.logicalCores, 3);
    assert.equal(info.physicalCores, 2);
    assert.deepEqual(new Set(info.flags), new Set(["sse4_2", "avx", "avx2", "fma", "f16c"]));
  });

  test("ARM /proc/cpuinfo: NEON and dot-product from Features, no model line", () => {
    const info = parseProcCpuinfo(ARM_CPUINFO);
    assert.equal(info.model, null);
    assert.equal(info.physicalCores, null);
    assert.equal(info.logicalCores, 2);
    assert.deepEqual(new Set(info.flags), new Set(["neon", "dotprod"]));
  });

  test("/proc/meminfo and /etc/os-release", () => {
    const meminfo = "MemTotal:       16318480 kB\nMemFree:         1201364 kB\nMemAvailable:    9856232 kB\n";
    assert.equal(parseMeminfo(meminfo, "MemAvailable"), 9856232 * 1024);
    assert.equal(parseMeminfo(meminfo, "SwapTotal"), null);
    assert.equal(parseOsRelease('NAME="Debian"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'), "Debian GNU/Linux 12 (bookworm)");
    assert.equal(parseOsRelease("NAME=Alpine\n"), null);
  });

  test("nvidia-smi CSV: one GPU per line, MiB to bytes, [N/A] becomes null", () => {
    const gpus = parseNvidiaSmi("NVIDIA GeForce RTX 3090, 24576, 23800\nNVIDIA H100 80GB HBM3, 81559, 81000\n");
    assert.equal(gpus.length, 2);
    assert.deepEqual(gpus[0], {
      vendor: "nvidia",
      model: "NVIDIA GeForce RTX 3090",
      memoryTotalBytes: 24576 * 1024 * 1024,
      memoryFreeBytes: 23800 * 1024 * 1024,
      unifiedMemory: false,
    });
    const jetson = parseNvidiaSmi("Orin (nvgpu), [N/A], [N/A]\n");
    assert.equal(jetson[0]?.memoryTotalBytes, null);
    assert.deepEqual(parseNvidiaSmi(""), []);
  });

  test("rocm-smi JSON: old and new key names, garbage yields nothing", () => {
    const text = JSON.stringify({
      card0: { "Card series": "Radeon RX 7900 XTX", "VRAM Total Memory (B)": "25753026560", "VRAM Total Used Memory (B)": "1073741824" },
      card1: { "Card Series": "Instinct MI210" },
      system: { "Driver version": "6.3" },
    });
    const gpus = parseRocmSmi(text);
    assert.equal(gpus.length, 2);
    assert.equal(gpus[0]?.model, "Radeon RX 7900 XTX");
    assert.equal(gpus[0]?.memoryFreeBytes, 25753026560 - 1073741824);
    assert.equal(gpus[1]?.memoryTotalBytes, null);
    assert.deepEqual(parseRocmSmi("WARNING: no AMD GPU found"), []);
  });

  test("Jetson device-tree model and macOS feature flags", () => {
    assert.equal(parseJetsonModel("NVIDIA Jetson Orin Nano Developer Kit\0"), "NVIDIA Jetson Orin Nano Developer Kit");
    assert.equal(parseJetsonModel("Raspberry Pi 4 Model B Rev 1.4\0"), null);
    const darwin = "hw.optional.arm.FEAT_DotProd: 1\nhw.optional.arm.FEAT_SVE: 0\nhw.optional.neon: 1\n";
    assert.deepEqual(new Set(parseDarwinFeatures(darwin)), new Set(["neon", "dotprod"]));
  });
});
