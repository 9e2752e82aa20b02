export { testModelPath, REPO_ROOT, TEST_MODEL_ID, TEST_MODEL_SHA256 } from "./test-model.ts";
export { startFlotilla, runCli, stopChild, CLI, type FlotillaProcess, type StartOptions } from "./flotilla-process.ts";
export { freePort, freeUdpPort } from "./ports.ts";
export { fetchClusterStatus, waitForClusterStatus } from "./cluster-status.ts";
export { nodeConformance, type ConformanceOptions, type NodeUnderTest } from "./node-conformance.ts";
export { FakeNode, type FakeNodeOptions } from "./fake-node.ts";
export { startCoordinator, type CoordinatorSetup } from "./coordinator-process.ts";
export { testAdminKey } from "./admin-key.ts";
export { startRedisServer, type RedisServer } from "./redis-server.ts";
