// A process template's memory, watched (issue 17: "supervised … memory
// watched"): the resident memory of the program's process group, read from
// /proc every interval; over the template's maxMemoryMiB it is killed, which
// the driver handles as any other crash (restarted within its budget). Linux
// only: elsewhere there is no /proc and nothing is watched (said at start).
import { readdir, readFile } from "node:fs/promises";

/** Resident bytes of every process whose process group is `leader`'s; undefined without /proc. */
export async function groupRssBytes(leader: number): Promise<number | undefined> {
  let entries: string[];
  try {
    entries = await readdir("/proc");
  } catch {
    return undefined;
  }
  let total = 0;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => undefined);
    // Fields after the command (which may hold spaces, in parentheses): state ppid pgrp …
    const fields = stat?.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields?.[2] !== String(leader)) continue;
    const status = await readFile(`/proc/${entry}/status`, "utf8").catch(() => "");
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    if (kib !== undefined) total += Number(kib) * 1024;
  }
  return total;
}

/** Calls `over` once the group's memory passes `limitBytes`; returns the stop. */
export function watchMemory(leader: number, limitBytes: number, everyMs: number, over: (rssBytes: number) => void): () => void {
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    void groupRssBytes(leader)
      .then((rss) => {
        if (rss !== undefined && rss > limitBytes) over(rss);
      })
      .finally(() => {
        checking = false;
      });
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
