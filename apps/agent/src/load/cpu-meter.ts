// The agent's own CPU use, as a percentage of one core since the previous
// reading (so 150 means one and a half cores were busy with this process).
export class CpuMeter {
  #lastUsage = process.cpuUsage();
  #lastWallNs = process.hrtime.bigint();

  percentSinceLastCall(): number {
    const usage = process.cpuUsage();
    const wallNs = process.hrtime.bigint();
    const cpuUs = usage.user - this.#lastUsage.user + (usage.system - this.#lastUsage.system);
    const wallUs = Number(wallNs - this.#lastWallNs) / 1000;
    this.#lastUsage = usage;
    this.#lastWallNs = wallNs;
    return wallUs <= 0 ? 0 : Math.round((cpuUs / wallUs) * 1000) / 10;
  }
}
