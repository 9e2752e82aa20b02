// Pure parsers for what the operating system and vendor tools print about the
// hardware. Kept apart from the I/O in detect.ts so every format is tested
// with real captured output, including the odd cases ("[N/A]", missing keys).
import type { CpuFlag, GpuInfo } from "@flotilla/protocol";

const MIB = 1024 * 1024;

export interface CpuInfoSummary {
  model: string | null;
  physicalCores: number | null;
  logicalCores: number;
  flags: CpuFlag[];
}

// x86 names come from the "flags" line, ARM ones from "Features".
const FLAG_NAMES: ReadonlyArray<[string, CpuFlag]> = [
  ["sse4_2", "sse4_2"],
  ["avx", "avx"],
  ["avx2", "avx2"],
  ["avx512f", "avx512f"],
  ["fma", "fma"],
  ["f16c", "f16c"],
  ["asimd", "neon"],
  ["neon", "neon"],
  ["asimddp", "dotprod"],
  ["sve", "sve"],
];

export function flagsFrom(words: Iterable<string>): CpuFlag[] {
  const have = new Set(words);
  const found = new Set<CpuFlag>();
  for (const [name, flag] of FLAG_NAMES) if (have.has(name)) found.add(flag);
  return [...found];
}

/** Linux /proc/cpuinfo, x86 or ARM. */
export function parseProcCpuinfo(text: string): CpuInfoSummary {
  let model: string | null = null;
  let logical = 0;
  const cores = new Set<string>();
  let physicalId = "0";
  const words = new Set<string>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === "processor") logical += 1;
    else if ((key === "model name" || key === "hardware" || key === "cpu model") && !model && value) model = value;
    else if (key === "physical id") physicalId = value;
    else if (key === "core id") cores.add(`${physicalId}/${value}`);
    else if (key === "flags" || key === "features") for (const w of value.split(/\s+/)) words.add(w);
  }
  return { model, physicalCores: cores.size > 0 ? cores.size : null, logicalCores: logical, flags: flagsFrom(words) };
}

/** The value of one key in /proc/meminfo, in bytes. */
export function parseMeminfo(text: string, key: string): number | null {
  const match = new RegExp(`^${key}:\\s+(\\d+)\\s*kB`, "m").exec(text);
  return match ? Number(match[1]) * 1024 : null;
}

/** PRETTY_NAME from /etc/os-release. */
export function parseOsRelease(text: string): string | null {
  const match = /^PRETTY_NAME=(.*)$/m.exec(text);
  if (!match?.[1]) return null;
  return match[1].trim().replace(/^["']|["']$/g, "") || null;
}

/**
 * `nvidia-smi --query-gpu=name,memory.total,memory.free --format=csv,noheader,nounits`:
 * one line per GPU, memory in MiB. Jetson boards print "[N/A]" for memory.
 */
export function parseNvidiaSmi(text: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(",").map((f) => f.trim());
    const [name, total, free] = fields;
    if (!name || fields.length < 3) continue;
    gpus.push({ vendor: "nvidia", model: name, memoryTotalBytes: mib(total), memoryFreeBytes: mib(free), unifiedMemory: false });
  }
  return gpus;
}

function mib(field: string | undefined): number | null {
  if (!field || !/^\d+(\.\d+)?$/.test(field)) return null;
  return Math.round(Number(field) * MIB);
}

/**
 * `rocm-smi --showproductname --showmeminfo vram --json`: an object per card.
 * Key names changed between ROCm releases, so several spellings are accepted.
 */
export function parseRocmSmi(text: string): GpuInfo[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  if (!isRecord(parsed)) return [];
  const gpus: GpuInfo[] = [];
  for (const [card, info] of Object.entries(parsed)) {
    if (!card.startsWith("card") || !isRecord(info)) continue;
    const model = pick(info, ["Card Series", "Card series", "Marketing Name", "Card SKU", "Card model"]) ?? "AMD GPU";
    const total = numeric(pick(info, ["VRAM Total Memory (B)"]));
    const used = numeric(pick(info, ["VRAM Total Used Memory (B)"]));
    gpus.push({
      vendor: "amd",
      model,
      memoryTotalBytes: total,
      memoryFreeBytes: total !== null && used !== null ? Math.max(0, total - used) : null,
      unifiedMemory: false,
    });
  }
  return gpus;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function pick(info: Record<string, unknown>, keys: string[]): string | null {
  for (const key of keys) {
    const value = info[key];
    if (typeof value === "string" && value.trim()) return value.trim();
  }
  return null;
}

function numeric(value: string | null): number | null {
  return value !== null && /^\d+$/.test(value) ? Number(value) : null;
}

/** `/proc/device-tree/model` ends with a NUL byte; a Jetson names itself there. */
export function parseJetsonModel(deviceTreeModel: string): string | null {
  const model = deviceTreeModel.replaceAll("\0", "").trim();
  return /jetson/i.test(model) ? model : null;
}

/** macOS `sysctl hw.optional` lines ("hw.optional.arm.FEAT_DotProd: 1"). */
export function parseDarwinFeatures(text: string): CpuFlag[] {
  const on = (name: string) => new RegExp(`^hw\\.optional\\.${name.replaceAll(".", "\\.")}:\\s*1\\s*$`, "m").test(text);
  const flags = new Set<CpuFlag>();
  if (on("neon") || on("AdvSIMD") || on("arm.AdvSIMD")) flags.add("neon");
  if (on("arm.FEAT_DotProd")) flags.add("dotprod");
  if (on("arm.FEAT_SVE")) flags.add("sve");
  if (on("avx1_0")) flags.add("avx");
  if (on("avx2_0")) flags.add("avx2");
  if (on("avx512f")) flags.add("avx512f");
  if (on("fma")) flags.add("fma");
  if (on("f16c")) flags.add("f16c");
  if (on("sse4_2")) flags.add("sse4_2");
  return [...flags];
}
