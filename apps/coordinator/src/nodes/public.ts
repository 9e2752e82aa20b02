// The node kinds, importable alone as @flotilla/coordinator/nodes: what the
// node conformance suite (tests/e2e/node-conformance.test.ts) builds each
// kind from, through the package's exports rather than into src/.
export { NodeRegistry } from "./node-registry.ts";
export { LocalNodes } from "./local/local-nodes.ts";
export { RemoteNode, type RemoteNodeRecord } from "./agent/remote-node.ts";
export { AgentlessNode, type AgentlessNodeSpec } from "./agentless/agentless-node.ts";
export { healthPolicy } from "./node-health.ts";
