import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { clusterFile, loadClusterFile } from "./cluster-file.ts";
import { EXAMPLE_NODE_MARKER, renderClusterFileTemplate } from "./cluster-file-template.ts";
import { ConfigError } from "./load-config-file.ts";
import { DEFAULT_ALLOWED_NETWORKS } from "./url-policy.ts";

async function withFile<T>(text: string, fn: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-cluster-"));
  try {
    const file = path.join(dir, "cluster.yaml");
    await writeFile(file, text);
    return await fn(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The ConfigError a file raises; fails the test when it loads. */
async function loadError(text: string, env: NodeJS.ProcessEnv = {}): Promise<{ message: string; file: string }> {
  return withFile(text, async (file) => {
    try {
      await loadClusterFile(file, env);
    } catch (err) {
      assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
      return { message: err.message, file };
    }
    assert.fail("the file loaded");
  });
}

test("an empty file is a valid cluster with every default", async () => {
  const config = await withFile("# nothing yet\n", (file) => loadClusterFile(file, {}));
  assert.deepEqual(config, {
    coordinator: { discovery: "mdns" },
    routing: {},
    allowedNetworks: [...DEFAULT_ALLOWED_NETWORKS],
    nodes: [],
  });
});

test("a section whose entries are all commented out is empty, not an error", async () => {
  const config = await withFile("coordinator:\n  # port: 9000\nrouting:\nallowedNetworks:\nnodes:\n", (file) => loadClusterFile(file, {}));
  assert.deepEqual(config.coordinator, { discovery: "mdns" });
  assert.deepEqual(config.routing, {});
  assert.deepEqual(config.allowedNetworks, [...DEFAULT_ALLOWED_NETWORKS]);
  assert.deepEqual(config.nodes, []);
});

test("a valid file loads typed, with node defaults applied and tokens read from the environment", async () => {
  const text = [
    "coordinator:",
    "  host: 0.0.0.0",
    "  port: 9000",
    "  discovery: explicit",
    "routing:",
    "  defaultModel: llama3.1:8b",
    "  preferLocal: true",
    "nodes:",
    "  - name: ollama-box",
    "    url: http://192.168.1.20:11434",
    "    kind: ollama",
    "  - name: gpu.box_2",
    "    url: https://gpu-box.lan:8000/v1",
    "    tier: 2",
    "    pool: brain",
    "    models: [qwen2.5-72b]",
    "    weight: 2.5",
    "    labels: { gpu: rtx4090, vram: 24, fast: true }",
    "    apiKeyEnv: GPU_BOX_TOKEN",
    "",
  ].join("\n");
  const config = await withFile(text, (file) => loadClusterFile(file, { GPU_BOX_TOKEN: "sk-secret\n" }));
  assert.deepEqual(config.coordinator, { host: "0.0.0.0", port: 9000, discovery: "explicit" });
  assert.deepEqual(config.routing, { defaultModel: "llama3.1:8b", preferLocal: true });
  assert.deepEqual(config.nodes[0], {
    name: "ollama-box",
    url: "http://192.168.1.20:11434",
    kind: "ollama",
    tier: 1,
    pool: "default",
    models: [],
    weight: 1,
    labels: {},
    apiKey: undefined,
  });
  assert.deepEqual(config.nodes[1], {
    name: "gpu.box_2",
    url: "https://gpu-box.lan:8000/v1",
    kind: "openai",
    tier: 2,
    pool: "brain",
    models: ["qwen2.5-72b"],
    weight: 2.5,
    labels: { gpu: "rtx4090", vram: "24", fast: "true" },
    apiKeyEnv: "GPU_BOX_TOKEN",
    apiKey: "sk-secret",
  });
});

test("a bad tier names nodes[i].tier and the line it is on", async () => {
  const { message, file } = await loadError(
    ["nodes:", "  - name: a", "    url: http://10.0.0.1:8080", "  - name: b", "    url: http://10.0.0.2:8080", "    tier: 3", ""].join("\n"),
  );
  assert.match(message, /^nodes\[1\]\.tier: /);
  assert.ok(message.endsWith(`(from ${file}:6)`), message);
});

test("the routing section's failure handling is checked, each bad value named with its line", async () => {
  const ok = await withFile(
    ['routing:', '  continueOnFailure: true', '  timeouts:', '    "2": { firstTokenMs: 90000 }', '  queue: { maxDepth: 8 }', '  classifier: { model: tiny }', ""].join("\n"),
    (file) => loadClusterFile(file, {}),
  );
  assert.deepEqual(ok.routing, { continueOnFailure: true, timeouts: { 2: { firstTokenMs: 90000 } }, queue: { maxDepth: 8 }, classifier: { model: "tiny" } });
  const timeout = await loadError(["routing:", "  timeouts:", '    "1": { idleMs: 0 }', ""].join("\n"));
  assert.match(timeout.message, /^routing\.timeouts\.1\.idleMs: /);
  assert.ok(timeout.message.endsWith(`(from ${timeout.file}:3)`), timeout.message);
  assert.match((await loadError('routing:\n  timeouts:\n    "3": { idleMs: 10 }\n')).message, /^routing\.timeouts: .*3/);
  assert.match((await loadError("routing:\n  circuit: { failuresToOpen: 0 }\n")).message, /^routing\.circuit\.failuresToOpen: /);
  assert.match((await loadError("routing:\n  retryBudget: { ratio: 2 }\n")).message, /^routing\.retryBudget\.ratio: /);
  assert.match((await loadError("routing:\n  queue: { maxDepth: -1 }\n")).message, /^routing\.queue\.maxDepth: /);
});

test("node names must be unique", async () => {
  const { message, file } = await loadError(
    ["nodes:", "  - name: box", "    url: http://10.0.0.1", "  - name: box", "    url: http://10.0.0.2", ""].join("\n"),
  );
  assert.ok(message.startsWith('nodes[1].name: "box" is already the name of nodes[0]'), message);
  assert.ok(message.endsWith(`(from ${file}:4)`), message);
});

test("a misspelt key is refused, not ignored", async () => {
  const node = await loadError(["nodes:", "  - name: a", "    url: http://10.0.0.1", "    teir: 2", ""].join("\n"));
  assert.match(node.message, /^nodes\[0\]: .*teir/);
  const top = await loadError("allowedNetwork: [10.0.0.0/8]\n");
  assert.match(top.message, /allowedNetwork/);
  const nested = await loadError("routing:\n  prefer_local: true\n");
  assert.match(nested.message, /^routing: .*prefer_local/);
});

test("a bad CIDR names allowedNetworks[i] and its line", async () => {
  const { message, file } = await loadError(["allowedNetworks:", "  - 10.0.0.0/8", "  - 192.168.0.0/33", ""].join("\n"));
  assert.match(message, /^allowedNetworks\[1\]: .*prefix length/);
  assert.ok(message.endsWith(`(from ${file}:3)`), message);
});

test("node URLs are checked against the file's own allowedNetworks", async () => {
  const outside = await loadError(
    ["allowedNetworks: [10.0.0.0/8]", "nodes:", "  - name: a", "    url: http://192.168.1.5:11434", ""].join("\n"),
  );
  assert.match(outside.message, /^nodes\[0\]\.url: 192\.168\.1\.5 is outside the allowed networks \(10\.0\.0\.0\/8\)/);
  assert.ok(outside.message.endsWith(`:4)`), outside.message);
  const metadata = await loadError(["nodes:", "  - name: a", "    url: http://169.254.169.254/", ""].join("\n"));
  assert.match(metadata.message, /^nodes\[0\]\.url: .*cloud metadata/);
  const credentials = await loadError(["nodes:", "  - name: a", "    url: http://me:pw@10.0.0.1/", ""].join("\n"));
  assert.match(credentials.message, /^nodes\[0\]\.url: .*user name or password/);
  const tailscale = await withFile(
    ["allowedNetworks: [100.64.0.0/10]", "nodes:", "  - name: a", "    url: http://100.70.1.2:11434", ""].join("\n"),
    (file) => loadClusterFile(file, {}),
  );
  assert.equal(tailscale.nodes[0]?.url, "http://100.70.1.2:11434");
});

test("a missing apiKeyEnv variable is an error naming it and the node", async () => {
  const text = ["nodes:", "  - name: gpu", "    url: http://10.0.0.9", "    apiKeyEnv: GPU_TOKEN", ""].join("\n");
  const { message, file } = await loadError(text, { OTHER: "x" });
  assert.ok(message.startsWith('nodes[0].apiKeyEnv: environment variable GPU_TOKEN is not set; node "gpu"'), message);
  assert.ok(message.endsWith(`(from ${file}:4)`), message);
  const empty = await loadError(text, { GPU_TOKEN: "  " });
  assert.match(empty.message, /GPU_TOKEN is not set/);
  // The token itself in the file is caught by the name's shape.
  const pasted = await loadError(text.replace("GPU_TOKEN", "sk-abc123"));
  assert.match(pasted.message, /^nodes\[0\]\.apiKeyEnv: the NAME of an environment variable/);
});

test("the template parses with the schema, and so does its example once uncommented", () => {
  const text = renderClusterFileTemplate({ hostname: "lab-1", summary: ["8 cores, 16 GB RAM", "GPU: none"] });
  assert.match(text, /on lab-1\./);
  assert.match(text, /^# {3}GPU: none$/m);
  const parsed = clusterFile.parse(parse(text));
  assert.deepEqual(parsed.nodes, []);
  assert.deepEqual(parsed.allowedNetworks, [...DEFAULT_ALLOWED_NETWORKS]);

  const [before, example] = text.split(EXAMPLE_NODE_MARKER);
  assert.ok(before !== undefined && example !== undefined);
  const uncommented = example
    .split("\n")
    .filter((line) => /^# ( |nodes:)/.test(line))
    .map((line) => line.slice(2))
    .join("\n");
  const withExample = clusterFile.parse(parse(before.replace("nodes: []", uncommented)));
  assert.equal(withExample.nodes.length, 1);
  assert.equal(withExample.nodes[0]?.kind, "ollama");
});

test("text from the machine cannot break out of the template's comments", () => {
  const text = renderClusterFileTemplate({
    hostname: "evil\nnodes:\n  - name: x\n    url: http://8.8.8.8",
    summary: ["ok\r\nallowedNetworks: [0.0.0.0/0]", "next\u2028line\u0085"],
  });
  const parsed = clusterFile.parse(parse(text));
  assert.deepEqual(parsed.nodes, []);
  assert.deepEqual(parsed.allowedNetworks, [...DEFAULT_ALLOWED_NETWORKS]);
});
