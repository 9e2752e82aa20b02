// `flotilla cluster init`: write a commented cluster file describing this
// machine, to edit and pass to the coordinator. Never overwrites silently.
import { writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { detectHardware } from "@flotilla/agent";
import { renderClusterFileTemplate } from "@flotilla/coordinator/config";
import type { HardwareInfo } from "@flotilla/protocol";
import { CliError } from "../client.ts";

export async function clusterInit(file: string, force: boolean, dataDir: string): Promise<void> {
  const hardware = await detectHardware({ modelDir: path.join(dataDir, "models") });
  const text = renderClusterFileTemplate({ hostname: hostname(), summary: describe(hardware) });
  try {
    await writeFile(file, text, { flag: force ? "w" : "wx", mode: 0o644 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") throw new CliError(`${file} exists; pass --force to overwrite it`);
    throw new CliError(`cannot write ${file}: ${(err as Error).message}`);
  }
  process.stderr.write(`wrote ${file}\n`);
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/** The lines the template puts under "This machine:". */
export function describe(h: HardwareInfo): string[] {
  const lines = [
    `hardware_type: ${h.hardwareType}`,
    `cpu: ${h.cpu.model}, ${h.cpu.physicalCores} cores / ${h.cpu.logicalCores} threads${h.cpu.flags.length ? `, ${h.cpu.flags.join(" ")}` : ""}`,
    `memory: ${gib(h.memory.totalBytes)} total, ${gib(h.memory.availableBytes)} available`,
  ];
  for (const gpu of h.gpus) {
    lines.push(`gpu: ${gpu.vendor} ${gpu.model}${gpu.memoryTotalBytes === null ? "" : `, ${gib(gpu.memoryTotalBytes)}`}${gpu.unifiedMemory ? " (unified memory)" : ""}`);
  }
  if (h.jetson) lines.push(`jetson: ${h.jetson.model}`);
  if (h.disk.freeBytes !== null) lines.push(`disk: ${gib(h.disk.freeBytes)} free in ${h.disk.path}`);
  lines.push(`os: ${h.os.distro ?? h.os.platform} ${h.os.release} (${h.os.arch})`);
  return lines;
}
