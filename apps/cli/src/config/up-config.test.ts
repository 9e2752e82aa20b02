import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { httpLimitsOf, resolveUpConfig } from "./up-config.ts";

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

test("a misspelt setting names the file and line, and every bad field is reported at once", async () => {
  await withFile("port: 8080\nprot: 9999\nslots: many\ngpu: quantum\n", async (file) => {
    const err = await resolveUpConfig({}, file, {}).then(
      () => assert.fail("the file is refused"),
      (e: unknown) => e as Error,
    );
    const lines = err.message.split("\n");
    assert.deepEqual(lines.map((l) => l.split(":")[0]).sort(), ["gpu", "prot", "slots"], err.message);
    assert.ok(lines.includes(`prot: not a setting here, maybe misspelt (from ${file}:2)`), err.message);
    assert.doesNotMatch(err.message, /from defaults/);
  });
});

test("a bad tier lists the allowed values, as the flag's help does", async () => {
  await assert.rejects(resolveUpConfig({ tier: "5" }, undefined, {}), /ConfigError: tier: must be 0, 1 or 2 \(0 fast\/small, 1 medium, 2 powerful\) \(from command line\)$/);
});

test("conversationTtl takes a duration as typed, with 30 days by default", async () => {
  assert.equal((await resolveUpConfig({}, undefined, {})).conversationTtl, 30 * 86_400_000);
  assert.equal((await resolveUpConfig({ conversationTtl: "12h" }, undefined, {})).conversationTtl, 12 * 3_600_000);
  assert.equal((await resolveUpConfig({}, undefined, { FLOTILLA_CONVERSATION_TTL: "7d" })).conversationTtl, 7 * 86_400_000);
  await assert.rejects(resolveUpConfig({ conversationTtl: "soon" }, undefined, {}), /conversationTtl: use a number and a unit/);
  await assert.rejects(resolveUpConfig({ conversationTtl: "1s" }, undefined, {}), /conversationTtl: .*\(from command line\)/);
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

test("the HTTP limits have generous defaults, come from the file or the environment, and a head timeout may not outlast the body's", async () => {
  const defaults = httpLimitsOf(await resolveUpConfig({}, undefined, {}));
  assert.deepEqual(defaults, {
    httpLimits: { headersTimeoutMs: 10_000, bodyTimeoutMs: 30_000, maxConnectionsPerIp: 512, maxBodyBytesInFlight: 32 * 1024 * 1024 },
    authFailureLimit: { maxFailures: 20, windowMs: 10_000 },
  });
  await withFile("headersTimeoutMs: 500\nbodyTimeoutMs: 1000\nauthFailureLimit: 3\nauthFailureWindowMs: 60000\n", async (file) => {
    const limits = httpLimitsOf(await resolveUpConfig({}, file, { FLOTILLA_MAX_CONNECTIONS_PER_IP: "7" }));
    assert.deepEqual(limits, {
      httpLimits: { headersTimeoutMs: 500, bodyTimeoutMs: 1000, maxConnectionsPerIp: 7, maxBodyBytesInFlight: 32 * 1024 * 1024 },
      authFailureLimit: { maxFailures: 3, windowMs: 60_000 },
    });
  });
  await withFile("headersTimeoutMs: 5000\nbodyTimeoutMs: 1000\n", async (file) => {
    await assert.rejects(resolveUpConfig({}, file, {}), /headersTimeoutMs: must not be longer than bodyTimeoutMs/);
  });
  await assert.rejects(resolveUpConfig({}, undefined, { FLOTILLA_MAX_CONNECTIONS_PER_IP: "0" }), /maxConnectionsPerIp: .*\(from environment\)/);
  await assert.rejects(resolveUpConfig({}, undefined, { FLOTILLA_MAX_BODY_BYTES_IN_FLIGHT: "2048" }), /maxBodyBytesInFlight: must be at least bodyLimitBytes/);
});

test("templates come from the config file only, each checked field by field", async () => {
  assert.deepEqual((await resolveUpConfig({}, undefined, {})).templates, {});
  const text = [
    "templates:",
    "  tiny-chat:",
    "    driver: llama",
    "    model: tiny",
    "    source: hf:ggml-org/models/tinyllamas/stories260K.gguf",
    "    slots: 2",
    "  echo:",
    "    driver: process",
    "    command: [/usr/bin/python3, -m, http.server, '9100']",
    "    env: { LANG: C.UTF-8 }",
    "    health: http://127.0.0.1:9100/",
    "",
  ].join("\n");
  await withFile(text, async (file) => {
    const { templates } = await resolveUpConfig({}, file, {});
    assert.deepEqual(templates["tiny-chat"], { driver: "llama", model: "tiny", source: "hf:ggml-org/models/tinyllamas/stories260K.gguf", slots: 2 });
    assert.deepEqual(templates.echo, {
      driver: "process",
      command: ["/usr/bin/python3", "-m", "http.server", "9100"],
      env: { LANG: "C.UTF-8" },
      health: "http://127.0.0.1:9100/",
      startTimeoutMs: 60_000,
      restarts: 3,
      restartWindowMs: 600_000,
      stopGraceMs: 10_000,
    });
  });
});

test("a bad template names its field and line", async () => {
  const bad = async (lines: string[], expected: RegExp) =>
    withFile(["templates:", ...lines, ""].join("\n"), async (file) => {
      await assert.rejects(resolveUpConfig({}, file, {}), (err: Error) => {
        assert.match(err.message, expected);
        assert.match(err.message, new RegExp(`\\(from ${file}:\\d+\\)`));
        return true;
      });
    });
  await bad(["  a:", "    driver: docker", "    image: x"], /templates\.a\.driver: /);
  await bad(["  a:", "    driver: process", "    command: [python3]", "    health: http://127.0.0.1:1/"], /templates\.a\.command\[0\]: the program must be an absolute path/);
  await bad(["  a:", "    driver: process", "    command: []", "    health: http://127.0.0.1:1/"], /templates\.a\.command: must name at least the program/);
  await bad(["  a:", "    driver: process", "    command: [/bin/true]", "    health: http://example.com/"], /templates\.a\.health: must be a loopback URL/);
  await bad(["  a:", "    driver: process", "    command: [/bin/true]", "    health: http://[::1]:1/", "    shell: true"], /templates\.a\.shell: not a setting here/);
  await bad(["  a:", "    driver: llama", "    model: tiny", "    source: hf:nope"], /templates\.a\.source: "hf:nope" is not a Hugging Face reference/);
  await bad(["  a:", "    driver: llama", "    model: tiny", "    source: /m.gguf", "    slots: 0"], /templates\.a\.slots: /);
  await bad(["  Bad Name:", "    driver: llama", "    model: tiny", "    source: /m.gguf"], /templates\.Bad Name: /);
});

test("templates are not taken from the environment", async () => {
  assert.deepEqual((await resolveUpConfig({}, undefined, { FLOTILLA_TEMPLATES: "{\"a\":{}}" })).templates, {});
});
