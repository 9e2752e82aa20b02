// What an agent knows about the machine it runs on. Reported at join and
// again whenever it changes; the coordinator shows it and (later) uses it to
// judge what fits where. The tier is never derived from it: users declare it.
import { z } from "zod";

const bytes = z.number().int().min(0).max(2 ** 60);
const text = (max: number) => z.string().max(max);

/** Instruction-set extensions that change how fast llama.cpp runs on a CPU. */
export const cpuFlag = z.enum(["sse4_2", "avx", "avx2", "avx512f", "fma", "f16c", "neon", "dotprod", "sve"]);
export type CpuFlag = z.infer<typeof cpuFlag>;

export const gpuInfo = z
  .object({
    vendor: z.enum(["nvidia", "amd", "apple", "intel"]),
    model: text(128),
    /** Null where the tool does not say (Apple Silicon shares system memory). */
    memoryTotalBytes: bytes.nullable(),
    memoryFreeBytes: bytes.nullable(),
    /** True where the GPU uses system memory (Apple Silicon, Jetson). */
    unifiedMemory: z.boolean(),
  })
  .strict();
export type GpuInfo = z.infer<typeof gpuInfo>;

export const hardwareType = z.enum(["nvidia", "amd", "apple_silicon", "cpu"]);
export type HardwareType = z.infer<typeof hardwareType>;

export const hardwareInfo = z
  .object({
    cpu: z
      .object({
        model: text(128),
        physicalCores: z.int().min(1).max(4096),
        logicalCores: z.int().min(1).max(8192),
        flags: z.array(cpuFlag).max(16),
      })
      .strict(),
    memory: z.object({ totalBytes: bytes, availableBytes: bytes }).strict(),
    gpus: z.array(gpuInfo).max(64),
    /** Free space where models are kept; null when it could not be read. */
    disk: z.object({ path: text(1024), freeBytes: bytes.nullable() }).strict(),
    os: z
      .object({
        platform: text(32),
        release: text(128),
        arch: text(32),
        /** e.g. "Debian GNU/Linux 12 (bookworm)", from /etc/os-release. */
        distro: text(128).nullable(),
      })
      .strict(),
    /** Set on NVIDIA Jetson boards (from the device tree model string). */
    jetson: z.object({ model: text(128) }).strict().nullable(),
    hardwareType,
  })
  .strict();
export type HardwareInfo = z.infer<typeof hardwareInfo>;
