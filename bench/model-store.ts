// Issue 17, "Measured": the model pulled from the coordinator's model store
// (record MB/s). A real `flotilla coordinator`; a file of random bytes (the
// store does not read its content) uploaded with PUT /cluster/models/{name},
// then pulled by the agent's own resolution of `store:NAME` (the name's ref,
// the file by hash, sha256 verified, renamed into the cache) into a fresh
// cache each round, over loopback. The upload is timed too. The coordinator
// and the pull share this machine's two cores, so this is a floor for a LAN
// of separate machines, not a ceiling.
import { createReadStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { parseModelSource, resolveModel } from "@flotilla/agent";
import { startCoordinator, type FlotillaProcess } from "@flotilla/testkit";
import type { BenchResult, Mode } from "./report.ts";
import { infoRow } from "./rows.ts";

const SUITE = "model store";
const SETTINGS: Record<Mode, { mib: number; rounds: number }> = { smoke: { mib: 8, rounds: 1 }, quick: { mib: 256, rounds: 5 }, full: { mib: 1024, rounds: 5 } };

export async function modelStore(mode: Mode): Promise<BenchResult[]> {
  const { mib, rounds } = SETTINGS[mode];
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-bench-store-"));
  let coordinator: FlotillaProcess | undefined;
  try {
    const file = path.join(dir, "model.bin");
    // Written a MiB at a time: a GiB of random bytes is not held in memory at once.
    await writeFile(file, "");
    for (let i = 0; i < mib; i++) await writeFile(file, randomBytes(2 ** 20), { flag: "a" });
    const bytes = mib * 2 ** 20;
    const started = await startCoordinator({ dir, clusterFile: [], heartbeatIntervalMs: 1_000, label: "bench_store" });
    coordinator = started.coordinator;
    const t0 = performance.now();
    const res = await fetch(`${coordinator.url}/cluster/models/bench-model`, {
      method: "PUT",
      headers: { authorization: `Bearer ${started.adminKey}`, "content-type": "application/octet-stream", "content-length": String(bytes) },
      body: Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>,
      duplex: "half",
    });
    if (res.status !== 201) throw new Error(`PUT /cluster/models answered ${res.status}: ${await res.text()}`);
    const uploadS = (performance.now() - t0) / 1000;
    const pulls: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const cacheDir = path.join(dir, `cache-${round}`);
      const access = { url: coordinator.url, credential: started.adminKey };
      const t1 = performance.now();
      await resolveModel(parseModelSource("store:bench-model"), { cacheDir, hfEndpoint: "http://127.0.0.1:9", hfToken: undefined, store: () => access });
      pulls.push(bytes / 2 ** 20 / ((performance.now() - t1) / 1000));
      await rm(cacheDir, { recursive: true, force: true });
    }
    const mbps = (n: number) => `${n.toFixed(0)} MiB/s`;
    return [
      infoRow(SUITE, `pull of a ${mib} MiB file by store:NAME into an empty cache (ref, download, sha256 check), over ${rounds} rounds`, pulls, mbps),
      { suite: SUITE, name: `upload of the same file with PUT /cluster/models/{name} (streamed, hashed, synced)`, value: mbps(mib / uploadS), range: "", goal: "", met: null },
    ];
  } finally {
    await coordinator?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
