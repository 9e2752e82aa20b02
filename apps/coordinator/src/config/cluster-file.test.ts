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
    apiKeyEnvPrefixes: ["FLOTILLA_NODE_KEY_"],
    nodes: [],
    pools: {},
    templates: {},
    roamers: { autoscale: true, intervalMs: 2000, cooldownMs: 30000, maxPerPool: 8 },
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
    "    apiKeyEnv: FLOTILLA_NODE_KEY_GPU_BOX",
    "",
  ].join("\n");
  const config = await withFile(text, (file) => loadClusterFile(file, { FLOTILLA_NODE_KEY_GPU_BOX: "sk-secret\n" }));
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
    apiKeyEnv: "FLOTILLA_NODE_KEY_GPU_BOX",
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
  assert.match((await loadError('routing:\n  timeouts:\n    "3": { idleMs: 10 }\n')).message, /^routing\.timeouts\.3: not a setting here/);
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

test("every bad field of a node is reported at once: url, kind and tier", async () => {
  const { message, file } = await loadError(["nodes:", "  - name: a", "    url: not a url", "    kind: vllm", "    tier: 7", ""].join("\n"));
  const lines = message.split("\n");
  assert.equal(lines.length, 3, message);
  assert.match(lines.find((l) => l.startsWith("nodes[0].url: ")) ?? "", new RegExp(`http.*\\(from ${file}:3\\)$`));
  assert.match(lines.find((l) => l.startsWith("nodes[0].kind: ")) ?? "", /\(from .*:4\)$/);
  assert.match(lines.find((l) => l.startsWith("nodes[0].tier: ")) ?? "", /must be 0, 1 or 2.*\(from .*:5\)$/);
});

test("a misspelt key is refused, not ignored", async () => {
  const node = await loadError(["nodes:", "  - name: a", "    url: http://10.0.0.1", "    teir: 2", ""].join("\n"));
  // Each unknown key is named with its path and the line it is on.
  assert.match(node.message, /^nodes\[0\]\.teir: not a setting here, maybe misspelt \(from .*:4\)$/);
  const top = await loadError("allowedNetwork: [10.0.0.0/8]\n");
  assert.match(top.message, /allowedNetwork/);
  const nested = await loadError("routing:\n  prefer_local: true\n");
  assert.match(nested.message, /^routing\.prefer_local: not a setting here.*:2\)$/);
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
  const text = ["nodes:", "  - name: gpu", "    url: http://10.0.0.9", "    apiKeyEnv: FLOTILLA_NODE_KEY_GPU", ""].join("\n");
  const { message, file } = await loadError(text, { OTHER: "x" });
  assert.ok(message.startsWith('nodes[0].apiKeyEnv: environment variable FLOTILLA_NODE_KEY_GPU is not set; node "gpu"'), message);
  assert.ok(message.endsWith(`(from ${file}:4)`), message);
  const empty = await loadError(text, { FLOTILLA_NODE_KEY_GPU: "  " });
  assert.match(empty.message, /FLOTILLA_NODE_KEY_GPU is not set/);
  // The token itself in the file is caught by the name's shape.
  const pasted = await loadError(text.replace("FLOTILLA_NODE_KEY_GPU", "sk-abc123"));
  assert.match(pasted.message, /^nodes\[0\]\.apiKeyEnv: the NAME of an environment variable/);
});

test("apiKeyEnv may name only variables with a declared prefix, never the coordinator's others", async () => {
  const node = (name: string) => ["nodes:", "  - name: gpu", "    url: http://10.0.0.9", `    apiKeyEnv: ${name}`, ""];
  for (const name of ["PATH", "HF_TOKEN", "AWS_SECRET_ACCESS_KEY", "FLOTILLA_ADMIN_KEY", "FLOTILLA_NODE_KEY_"]) {
    const { message } = await loadError(node(name).join("\n"), { [name]: "the coordinator's secret" });
    assert.match(message, new RegExp(`^nodes\\[0\\]\\.apiKeyEnv: ${name} is not a node token variable: its name must start with FLOTILLA_NODE_KEY_`), message);
    assert.ok(!message.includes("the coordinator's secret"), "the variable's value is never shown");
  }
  // The file may declare its own prefixes instead; then only those count.
  const own = ["apiKeyEnvPrefixes: [OLLAMA_KEY_]", ...node("OLLAMA_KEY_BOX")].join("\n");
  const config = await withFile(own, (file) => loadClusterFile(file, { OLLAMA_KEY_BOX: "sk-box" }));
  assert.equal(config.nodes[0]?.apiKey, "sk-box");
  const notListed = await loadError(["apiKeyEnvPrefixes: [OLLAMA_KEY_]", ...node("FLOTILLA_NODE_KEY_BOX")].join("\n"), { FLOTILLA_NODE_KEY_BOX: "x" });
  assert.match(notListed.message, /must start with OLLAMA_KEY_/);
  // A prefix so short it admits half the environment is refused.
  const broad = await loadError(["apiKeyEnvPrefixes: [P]", ...node("PATH")].join("\n"), { PATH: "/bin" });
  assert.match(broad.message, /^apiKeyEnvPrefixes\S*: a prefix of at least 4 characters/);
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
