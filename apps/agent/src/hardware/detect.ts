// Hardware detection: reads what the OS exposes and asks the vendor tools
// that happen to be installed. Nothing here may throw because a tool is
// missing, hangs or prints something unexpected: it only yields less.
// Tools run through execFile (no shell) with fixed arguments and a timeout.
import { execFile } from "node:child_process";
import { readFile, statfs } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { CpuFlag, GpuInfo, HardwareInfo, HardwareType } from "@flotilla/protocol";
import {
  parseDarwinFeatures,
  parseJetsonModel,
  parseMeminfo,
  parseNvidiaSmi,
  parseOsRelease,
  parseProcCpuinfo,
  parseRocmSmi,
} from "./parse.ts";

const TOOL_TIMEOUT_MS = 3_000;

export interface DetectOptions {
  /** Where models are kept: its free space is reported. */
  modelDir: string;
}

/** Runs a tool; null when it is absent, fails, or takes too long. */
function run(file: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: TOOL_TIMEOUT_MS, maxBuffer: 1024 * 1024, windowsHide: true }, (err, stdout) => {
      resolve(err ? null : stdout);
    });
  });
}

function read(file: string): Promise<string | null> {
  return readFile(file, "utf8").catch(() => null);
}

export async function detectHardware(options: DetectOptions): Promise<HardwareInfo> {
  const platform = os.platform();
  const cpuDetected = detectCpu(platform);
  const [cpu, memoryAvailable, gpus, jetson, disk, distro] = await Promise.all([
    cpuDetected,
    detectAvailableMemory(platform),
    // Apple Silicon's GPU is named by its chip, which the CPU probe already read.
    cpuDetected.then((c) => detectGpus(platform, c.model)),
    platform === "linux" ? read("/proc/device-tree/model").then((m) => (m ? parseJetsonModel(m) : null)) : null,
    freeDiskBytes(options.modelDir),
    detectDistro(platform),
  ]);
  const totalBytes = os.totalmem();
  if (jetson && !gpus.some((g) => g.vendor === "nvidia")) {
    // Jetson's integrated GPU shares system memory; nvidia-smi is often absent.
    gpus.push({ vendor: "nvidia", model: jetson, memoryTotalBytes: totalBytes, memoryFreeBytes: null, unifiedMemory: true });
  }
  return {
    cpu,
    memory: { totalBytes, availableBytes: memoryAvailable ?? os.freemem() },
    gpus,
    disk: { path: path.resolve(options.modelDir), freeBytes: disk },
    os: { platform, release: os.release(), arch: os.arch(), distro },
    jetson: jetson ? { model: jetson } : null,
    hardwareType: summarise(gpus),
  };
}

/** The one-word summary: the strongest accelerator present, else cpu. */
export function summarise(gpus: GpuInfo[]): HardwareType {
  if (gpus.some((g) => g.vendor === "nvidia")) return "nvidia";
  if (gpus.some((g) => g.vendor === "apple")) return "apple_silicon";
  if (gpus.some((g) => g.vendor === "amd")) return "amd";
  return "cpu";
}

async function detectCpu(platform: NodeJS.Platform): Promise<HardwareInfo["cpu"]> {
  const cpus = os.cpus();
  const fallbackModel = cpus[0]?.model.trim() || "unknown";
  const logical = Math.max(1, cpus.length);
  if (platform === "linux") {
    const text = await read("/proc/cpuinfo");
    const info = text ? parseProcCpuinfo(text) : null;
    return {
      model: info?.model ?? fallbackModel,
      physicalCores: clampCores(info?.physicalCores ?? logical, logical),
      logicalCores: logical,
      flags: info?.flags ?? [],
    };
  }
  if (platform === "darwin") {
    const [brand, physical, features] = await Promise.all([
      run("sysctl", ["-n", "machdep.cpu.brand_string"]),
      run("sysctl", ["-n", "hw.physicalcpu"]),
      run("sysctl", ["hw.optional"]),
    ]);
    const flags: CpuFlag[] = features ? parseDarwinFeatures(features) : [];
    if (os.arch() === "arm64" && !flags.includes("neon")) flags.push("neon"); // every Apple Silicon core has it
    const physicalCount = Number(physical?.trim());
    return {
      model: brand?.trim() || fallbackModel,
      physicalCores: clampCores(Number.isInteger(physicalCount) && physicalCount > 0 ? physicalCount : logical, logical),
      logicalCores: logical,
      flags,
    };
  }
  return { model: fallbackModel, physicalCores: logical, logicalCores: logical, flags: [] };
}

function clampCores(physical: number, logical: number): number {
  return Math.min(Math.max(1, physical), logical);
}

async function detectAvailableMemory(platform: NodeJS.Platform): Promise<number | null> {
  if (platform !== "linux") return null;
  const text = await read("/proc/meminfo");
  return text ? parseMeminfo(text, "MemAvailable") : null;
}

async function detectGpus(platform: NodeJS.Platform, cpuModel: string): Promise<GpuInfo[]> {
  if (platform === "darwin") {
    if (os.arch() !== "arm64") return [];
    return [{ vendor: "apple", model: cpuModel || "Apple Silicon", memoryTotalBytes: null, memoryFreeBytes: null, unifiedMemory: true }];
  }
  const [nvidia, amd] = await Promise.all([
    run("nvidia-smi", ["--query-gpu=name,memory.total,memory.free", "--format=csv,noheader,nounits"]),
    run("rocm-smi", ["--showproductname", "--showmeminfo", "vram", "--json"]),
  ]);
  return [...(nvidia ? parseNvidiaSmi(nvidia) : []), ...(amd ? parseRocmSmi(amd) : [])];
}

/** Free space for the model directory, or its nearest existing parent. */
async function freeDiskBytes(dir: string): Promise<number | null> {
  let current = path.resolve(dir);
  for (;;) {
    try {
      const s = await statfs(current);
      return Number(s.bavail) * Number(s.bsize);
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return null;
      current = parent;
    }
  }
}

async function detectDistro(platform: NodeJS.Platform): Promise<string | null> {
  if (platform === "linux") {
    const text = (await read("/etc/os-release")) ?? (await read("/usr/lib/os-release"));
    return text ? parseOsRelease(text) : null;
  }
  if (platform === "darwin") {
    const version = (await run("sw_vers", ["-productVersion"]))?.trim();
    return version ? `macOS ${version}` : null;
  }
  return os.version() || null;
}
