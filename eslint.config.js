// Lint rules that catch what the compiler does not: floating promises,
// `any` escape hatches, and the architecture rules of docs/adr/0002.
import tseslint from "typescript-eslint";

const noCoordinatorInAgent = {
  group: ["@flotilla/coordinator", "@flotilla/coordinator/*", "**/coordinator/src/**"],
  message: "The agent runs on 8 GB machines and must not import the coordinator (ADR 0002).",
};

export default tseslint.config(
  { ignores: ["node_modules/**", "**/node_modules/**"] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": ["error", {
        // node:test's test() and describe() return promises the runner awaits.
        allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "describe", "it", "suite"] }],
      }],
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false } }],
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/switch-exhaustiveness-check": "error",
      "@typescript-eslint/ban-ts-comment": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": "off",
    },
  },
  {
    files: ["packages/protocol/**"],
    ignores: ["**/*.test.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [{ group: ["node:*", "fastify", "undici", "node-llama-cpp"], message: "The protocol package is schemas and types only: no I/O (ADR 0002)." }],
      }],
    },
  },
  {
    files: ["apps/agent/**"],
    rules: { "no-restricted-imports": ["error", { patterns: [noCoordinatorInAgent] }] },
  },
  {
    // Tests may use `any`-free but looser patterns: assertions on unknown JSON.
    files: ["**/*.test.ts", "tests/**", "bench/**", "packages/testkit/**"],
    rules: {
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
    },
  },
);
