// The commented cluster file `flotilla cluster init` writes. Pure: the caller
// supplies the host name and a hardware summary and writes the file. The
// template must parse with the cluster-file schema as written, and its
// commented example node must parse once uncommented (both are tested).
import { DEFAULT_ALLOWED_NETWORKS } from "./url-policy.ts";

const NETWORK_NOTES: Record<string, string> = {
  "127.0.0.0/8": "loopback",
  "::1/128": "loopback",
  "10.0.0.0/8": "private",
  "172.16.0.0/12": "private",
  "192.168.0.0/16": "private",
  "fc00::/7": "private (unique local)",
  "fe80::/10": "link-local",
};

/** Marks where the example node starts: a test uncomments what follows. */
export const EXAMPLE_NODE_MARKER = "# Example: an agentless Ollama node.";

export function renderClusterFileTemplate(input: { hostname: string; summary: string[] }): string {
  const networks = DEFAULT_ALLOWED_NETWORKS.map((cidr) => {
    const note = NETWORK_NOTES[cidr];
    return note ? `  - ${cidr.padEnd(16)} # ${note}` : `  - ${cidr}`;
  });
  const summary = input.summary.map((line) => `#   ${oneLine(line)}`);
  return [
    `# flotilla cluster file, written by \`flotilla cluster init\` on ${oneLine(input.hostname)}.`,
    ...(summary.length > 0 ? ["#", "# This machine:", ...summary] : []),
    "#",
    "# The coordinator reads this at start-up. Keys are checked: a misspelt key",
    "# is an error, not ignored. Machines running `flotilla agent --join ...`",
    "# need no entry here; list only servers without an agent (Ollama,",
    "# llama-server, vLLM, LM Studio) under nodes.",
    "",
    "coordinator:",
    "  # host: 0.0.0.0      # listen on every interface, not only this machine",
    "  # port: 8080",
    "  discovery: mdns      # mdns: agents on this LAN find the coordinator; explicit: only --join URLs",
    "",
    "routing:",
    "  # defaultModel: llama3.1:8b   # the model for requests that name none",
    "  # preferLocal: true           # keep requests on this machine when it can serve them",
    "  # continueOnFailure: true     # resume a stream on another node when its node dies",
    "  # timeouts:                   # per tier, in ms (defaults grow with the tier)",
    "  #   \"0\": { connectMs: 3000, firstTokenMs: 30000, idleMs: 15000 }",
    "  #   \"2\": { connectMs: 5000, firstTokenMs: 120000, idleMs: 60000 }",
    "  # circuit: { failuresToOpen: 3, baseEjectionMs: 5000, maxEjectionMs: 300000 }",
    "  # queue: { maxDepth: 64, maxWaitMs: 30000 }   # when every node is full",
    "  # retryBudget: { ratio: 0.2, minPerSecond: 5 }",
    "  # classifier: { model: qwen2.5:0.5b, timeoutMs: 2000 }   # ask a small tier-0 model how hard each request is",
    "",
    "# The only networks the coordinator will call. A node URL outside them is",
    "# refused, and so are cloud metadata addresses (169.254.169.254) even inside.",
    "# 169.254.0.0/16 and fd00:ec2::/32 (where clouds serve credentials) are refused",
    "# unless an entry here lies inside them, like 169.254.10.0/24.",
    "# Add e.g. 100.64.0.0/10 for Tailscale.",
    "allowedNetworks:",
    ...networks,
    "",
    "# A node's apiKeyEnv may name only variables starting with one of these (the",
    "# coordinator sends the value to the node, so no other variable may be named).",
    "# apiKeyEnvPrefixes: [FLOTILLA_NODE_KEY_]",
    "",
    "# What joined agents may claim. A model outside allowModels is dropped from",
    "# the node (status says why); slots per model are capped at",
    "# max(logical cores x 4, 64), at most 1024, unless maxSlotsPerModel says otherwise.",
    "agents:",
    "  # allowModels: [\"qwen2.5-*\", llama3.1:8b]   # every agent; `*` matches anything; absent: any model",
    "  # maxSlotsPerModel: 16",
    "  # nodes:                                      # per agent, by its --name; replaces the default list",
    "  #   - name: desk-1",
    "  #     allowModels: [qwen2.5-1.5b-instruct-q4_k_m]",
    "",
    "nodes: []",
    "",
    EXAMPLE_NODE_MARKER,
    "# Delete `nodes: []` above and uncomment:",
    "# nodes:",
    "#   - name: ollama-box",
    "#     url: http://192.168.1.20:11434",
    "#     kind: ollama               # or openai: llama-server, vLLM, LM Studio",
    "#     tier: 1                    # 0 fast/small, 1 medium, 2 powerful",
    "#     pool: default",
    "#     models: [llama3.1:8b]",
    "#     weight: 1",
    "#     labels: { room: office }",
    "#     apiKeyEnv: FLOTILLA_NODE_KEY_OLLAMA_BOX   # the NAME of the variable holding its token, if it needs one",
    "",
  ].join("\n");
}

/**
 * Text from the machine (a host name, a GPU model) goes into comments; a line
 * break in it would end the comment and inject YAML, so control characters,
 * including the ones YAML 1.1 readers take as line breaks, become spaces.
 */
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, " ");
}
