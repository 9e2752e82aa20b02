export * from "./errors.ts";
export * from "./openai.ts";
export * from "./generation.ts";
export * from "./version.ts";
export * from "./cluster.ts";
export * from "./discovery.ts";
export * from "./hardware.ts";
