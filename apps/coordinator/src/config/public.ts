// The configuration half of the coordinator package, importable without the
// server: the CLI validates settings for every command (an agent included)
// and must not load Fastify, undici and SQLite just to read a file.
export { loadConfigFile, validate, ConfigError, type LoadedFile } from "./load-config-file.ts";
export { DEFAULT_ALLOWED_NETWORKS, cidrProblem } from "./url-policy.ts";
export { loadClusterFile, type ClusterConfig } from "./cluster-file.ts";
export { renderClusterFileTemplate } from "./cluster-file-template.ts";
