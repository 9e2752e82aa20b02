// What `--speech` needs from Debian, checked once at start: a node that
// advertised tts/stt without its programs would fail every request it is
// sent (and be retried elsewhere, tripping circuits), so it does not start.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { DEBIAN_EN_US_MODEL } from "./pocketsphinx-engine.ts";

const PROGRAMS: readonly { file: string; args: string[]; debianPackage: string }[] = [
  { file: "espeak-ng", args: ["--version"], debianPackage: "espeak-ng" },
  { file: "sox", args: ["--version"], debianPackage: "sox" },
  { file: "opusenc", args: ["--version"], debianPackage: "opus-tools" },
  { file: "opusdec", args: ["--version"], debianPackage: "opus-tools" },
  { file: "pocketsphinx_continuous", args: [], debianPackage: "pocketsphinx" },
];

/** The Debian packages missing for the built-in speech engines; empty when all are there. */
export function missingSpeechPackages(): string[] {
  const missing = new Set<string>();
  for (const program of PROGRAMS) {
    const run = spawnSync(program.file, program.args, { stdio: "ignore", timeout: 10_000 });
    if (run.error !== undefined && "code" in run.error && run.error.code === "ENOENT") missing.add(program.debianPackage);
  }
  if (!existsSync(DEBIAN_EN_US_MODEL)) missing.add("pocketsphinx-en-us");
  const formats = spawnSync("sox", ["-h"], { encoding: "utf8", timeout: 10_000 });
  if (formats.error === undefined && !/\bmp3\b/.test(formats.stdout)) missing.add("libsox-fmt-mp3");
  return [...missing];
}
