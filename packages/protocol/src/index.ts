export * from "./errors.ts";
export * from "./openai.ts";
export * from "./generation.ts";
export * from "./version.ts";
