// The node conformance suite (testkit's nodeConformance) against every real
// kind of node, each serving the real test model through llama.cpp:
// - local: the in-process node of `flotilla up` over a real Agent;
// - agent: a RemoteNode calling a real agent API over HTTP on loopback;
// - agentless OpenAI: a `flotilla up` process standing in for vLLM or llama-server;
// - agentless Ollama: a `flotilla up` process's own Ollama API (/api/*), a
//   stand-in for Ollama, which cannot be installed here; it lists the model
//   as Ollama does, `stories260K:latest`.
import { Agent as HttpAgent } from "undici";
import { pino } from "pino";
import { Agent, buildAgentServer, loadLlamaCpp } from "@flotilla/agent";
import { AgentlessNode, healthPolicy, LocalNodes, NodeRegistry, RemoteNode, type AgentlessNodeSpec } from "@flotilla/coordinator/nodes";
import { hashSecret } from "@flotilla/security";
import { nodeConformance, startFlotilla, testModelPath, TEST_MODEL_ID, type FlotillaProcess } from "@flotilla/testkit";

/** One real Agent (one llama.cpp model) shared by the in-process kinds, loaded once. */
let shared: Promise<{ agent: Agent; dispose(): Promise<void> }> | undefined;
let users = 0;
async function sharedAgent(): Promise<Agent> {
  users++;
  shared ??= (async () => {
    const { startLlamaRuntime, loadLlamaModel } = await loadLlamaCpp();
    const llama = await startLlamaRuntime({ gpu: "off", threads: 1 });
    const backend = await loadLlamaModel(llama, { modelId: TEST_MODEL_ID, path: await testModelPath(), parallelSequences: 2, contextSize: 2048, threads: 1 });
    const agent = new Agent({ maxQueued: 8, maxWaitMs: 30_000 });
    agent.addBackend(backend, Date.now());
    return { agent, dispose: async () => { await agent.close(); await llama.dispose(); } };
  })();
  return (await shared).agent;
}
async function releaseAgent(): Promise<void> {
  if (--users === 0 && shared) await (await shared).dispose();
}

const pool = new HttpAgent({ keepAliveTimeout: 1_000 });
const policy = healthPolicy(60_000);

nodeConformance("local node", {
  start: async () => {
    const node = new LocalNodes(new NodeRegistry()).add(await sharedAgent(), { name: "local", tier: 0, pool: "default", hardware: null });
    return { node, model: TEST_MODEL_ID };
  },
  stop: releaseAgent,
  exactUsage: true,
  forcesToolCalls: true,
});

let agentServer: ReturnType<typeof buildAgentServer> | undefined;
nodeConformance("agent over HTTP", {
  start: async () => {
    const agent = await sharedAgent();
    const credential = "coordinator-credential-for-the-conformance-suite";
    agentServer = buildAgentServer({ host: agent, coordinatorCredentialHash: () => hashSecret(credential), logger: pino({ level: "silent" }) });
    const url = await agentServer.listen({ host: "127.0.0.1", port: 0 });
    const node = new RemoteNode({ id: "n1", name: "agent", url, tier: 0, pool: "default", hardware: null, drained: false }, credential, policy, pool);
    node.heard(agent.load(), Date.now());
    return { node, model: TEST_MODEL_ID };
  },
  stop: async () => {
    await agentServer?.close();
    await releaseAgent();
  },
  exactUsage: true,
  forcesToolCalls: true,
});

const agentless = (name: string, url: string, kind: AgentlessNodeSpec["kind"]) =>
  new AgentlessNode(
    { name, url, kind, tier: 0, pool: "default", models: [], weight: 1, labels: {}, apiKey: undefined },
    { origin: "api", drained: false, policy, dispatcher: pool, nowMs: Date.now },
  );

let server: FlotillaProcess | undefined;
nodeConformance("agentless OpenAI server", {
  start: async () => {
    server = await startFlotilla({ args: ["--model", await testModelPath(), "--slots", "2"] });
    const node = agentless("openai", server.url, "openai");
    await node.checkHealth(5_000);
    return { node, model: TEST_MODEL_ID };
  },
  stop: async () => {
    await server?.stop();
  },
  // A flotilla server sends usage; a real llama-server or vLLM does too, some others not.
  exactUsage: true,
  forcesToolCalls: true,
});

let ollamaApi: FlotillaProcess | undefined;
nodeConformance("agentless Ollama server (flotilla's /api standing in)", {
  start: async () => {
    ollamaApi = await startFlotilla({ args: ["--model", await testModelPath(), "--slots", "2"] });
    const node = agentless("ollama", ollamaApi.url, "ollama");
    await node.checkHealth(5_000);
    return { node, model: `${TEST_MODEL_ID}:latest` };
  },
  stop: async () => {
    await ollamaApi?.stop();
    await pool.close();
  },
  exactUsage: true,
  forcesToolCalls: false,
});
