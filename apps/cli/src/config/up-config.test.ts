import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { resolveUpConfig } from "./up-config.ts";

async function withFile(text: string, fn: (file: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-cfg-"));
  try {
    const file = path.join(dir, "flotilla.yaml");
    await writeFile(file, text);
    await fn(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("flags beat the environment, which beats the file, which beats defaults", async () => {
  await withFile("port: 1000\nslots: 2\nthreads: 3\nhost: 0.0.0.0\n", async (file) => {
    const config = await resolveUpConfig({ port: "3000" }, file, { FLOTILLA_PORT: "2000", FLOTILLA_SLOTS: "5" });
    assert.equal(config.port, 3000);
    assert.equal(config.slots, 5);
    assert.equal(config.threads, 3);
    assert.equal(config.host, "0.0.0.0");
    assert.equal(config.contextSize, 4096);
  });
});

test("the default binds to loopback and keeps data under the home directory", async () => {
  const config = await resolveUpConfig({}, undefined, {});
  assert.equal(config.host, "127.0.0.1");
  assert.match(config.dataDir, /\.flotilla$/);
  assert.ok(config.threads >= 1);
});

test("errors name the field and where the bad value came from", async () => {
  await assert.rejects(resolveUpConfig({}, undefined, { FLOTILLA_THREADS: "0" }), /threads: .*\(from environment\)/);
  await withFile("# comment\nport: 80\ngpu: quantum\n", async (file) => {
    await assert.rejects(resolveUpConfig({}, file, {}), new RegExp(`gpu: .*\\(from ${file}:3\\)`));
  });
  await withFile("- a\n- b\n", async (file) => {
    await assert.rejects(resolveUpConfig({}, file, {}), /top level must be a mapping/);
  });
  await withFile("port: [unclosed\n", async (file) => {
    await assert.rejects(resolveUpConfig({}, file, {}), /config file/);
  });
});

test("the cluster file's coordinator section sets host, port and discovery below flags and the environment", async () => {
  await withFile("coordinator:\n  host: 0.0.0.0\n  port: 9123\n  discovery: explicit\n", async (clusterFile) => {
    const fromFile = await resolveUpConfig({ clusterFile }, undefined, {});
    assert.equal(fromFile.host, "0.0.0.0");
    assert.equal(fromFile.port, 9123);
    assert.equal(fromFile.discovery, "explicit");
    const overridden = await resolveUpConfig({ clusterFile, port: "9999" }, undefined, { FLOTILLA_DISCOVERY: "mdns" });
    assert.equal(overridden.port, 9999);
    assert.equal(overridden.discovery, "mdns");
  });
  await withFile("coordinator:\n  port: 99999\n", async (clusterFile) => {
    await assert.rejects(resolveUpConfig({}, undefined, { FLOTILLA_CLUSTER_FILE: clusterFile }), /coordinator\.port/);
  });
});
