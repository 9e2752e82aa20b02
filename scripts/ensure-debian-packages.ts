// The Debian packages the tests use, installed when missing: the README's
// test command runs this first, so a fresh Debian machine needs nothing but
// Node.js and npm. Quick when all are there (one dpkg-query). Not Debian, or
// not root: it says what is missing and how to install it, and the tests
// that need a package fail naming it.
import { spawnSync } from "node:child_process";

/** Package → what needs it. */
export const TEST_PACKAGES: Readonly<Record<string, string>> = {
  "redis-server": "the Redis job queue's tests (a private redis-server each)",
  "espeak-ng": "the built-in text-to-speech engine",
  pocketsphinx: "the built-in speech-to-text engine",
  "pocketsphinx-en-us": "its US English model",
  sox: "audio conversion",
  "libsox-fmt-mp3": "mp3 from sox",
  "opus-tools": "opus (opusenc)",
  podman: "the container driver's tests (a real podman with a storage of their own)",
  runc: "podman's OCI runtime in those tests",
  "busybox-static": "the test image's one program (busybox httpd)",
};

function missing(packages: readonly string[]): string[] {
  const query = spawnSync("dpkg-query", ["-W", "-f=${Package} ${Status}\\n", ...packages], { encoding: "utf8" });
  if (query.error !== undefined) return [...packages];
  const installed = new Set(
    query.stdout
      .split("\n")
      .filter((line) => line.endsWith(" install ok installed"))
      .map((line) => line.split(" ")[0]),
  );
  return packages.filter((name) => !installed.has(name));
}

function aptGet(args: readonly string[]): boolean {
  const run = spawnSync("apt-get", args, { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  return run.status === 0;
}

const wanted = Object.keys(TEST_PACKAGES);
const absent = missing(wanted);
if (absent.length > 0) {
  const isRoot = process.getuid?.() === 0;
  const hasDpkg = spawnSync("dpkg-query", ["--version"]).error === undefined;
  if (!hasDpkg || !isRoot) {
    process.stderr.write(
      `ensure-debian-packages: missing ${absent.join(", ")} (${absent.map((name) => TEST_PACKAGES[name]).join("; ")}).\n` +
        `  ${hasDpkg ? "Not root: run" : "Not a Debian system: install the equivalents of"} \`apt-get install ${absent.join(" ")}\`; the tests that need them will fail.\n`,
    );
  } else {
    process.stderr.write(`ensure-debian-packages: installing ${absent.join(", ")}\n`);
    const install = ["install", "-y", "--no-install-recommends", ...absent];
    // Stale package lists fail the first try; fresh ones are fetched only then.
    if (!aptGet(install) && !(aptGet(["update"]) && aptGet(install))) {
      process.stderr.write("ensure-debian-packages: apt-get failed; see its output above\n");
      process.exit(1);
    }
  }
}
