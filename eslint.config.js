// Lint rules that catch what the compiler does not: floating promises,
// `any` escape hatches, and the architecture rules of docs/adr/0002 and
// docs/adr/0015 (the folder-level cycle check is scripts/check-architecture.ts).
import tseslint from "typescript-eslint";
import { createNodeResolver, importX } from "eslint-plugin-import-x";

const noCoordinatorInAgent = {
  group: ["@flotilla/coordinator", "@flotilla/coordinator/*", "**/coordinator/src/**"],
  message: "The agent runs on 8 GB machines and must not import the coordinator (ADR 0002).",
};
// Packages are what apps are built from; an import the other way round makes
// a package carry an app (and its dependencies) into everything that uses it.
const noAppsInPackages = {
  group: [
    "@flotilla/agent", "@flotilla/agent/*",
    "@flotilla/coordinator", "@flotilla/coordinator/*",
    "@flotilla/cli", "@flotilla/cli/*",
    "**/apps/**",
  ],
  message: "A package never imports an app (ADR 0015).",
};
// Benchmarks and end-to-end tests drive the workspaces as their users do, so
// an app's internals can move without breaking them unnoticed.
const throughPackageExports = {
  group: ["**/apps/**", "**/packages/**"],
  message: "Import a workspace by its package name and exports (@flotilla/coordinator/routing…), not by a path into its src (ADR 0015).",
};
const noIoInProtocol = {
  group: ["node:*", "fastify", "undici", "node-llama-cpp"],
  message: "The protocol package is schemas and types only: no I/O (ADR 0002).",
};

export default tseslint.config(
  { ignores: ["node_modules/**", "**/node_modules/**"] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    plugins: { "import-x": importX },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    settings: {
      // Node's own resolution (package exports, `.ts` extensions written out),
      // so that workspace imports are followed into their real files.
      "import-x/resolver-next": [createNodeResolver({ extensions: [".ts", ".js"], conditionNames: ["import", "default"] })],
      "import-x/extensions": [".ts", ".js"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts"] },
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
      // A cycle of value imports between files: which module initialises
      // first depends on who is imported first (ADR 0015). Type-only imports
      // are erased and not followed; the folder check counts them.
      "import-x/no-cycle": ["error", { ignoreExternal: true }],
      "no-console": "off",
    },
  },
  // no-restricted-imports settings do not merge between blocks (the last one
  // that matches a file wins), so each block lists every pattern its files obey.
  {
    files: ["packages/**"],
    rules: { "no-restricted-imports": ["error", { patterns: [noAppsInPackages] }] },
  },
  {
    files: ["packages/protocol/**"],
    ignores: ["**/*.test.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [noAppsInPackages, noIoInProtocol] }] },
  },
  {
    files: ["apps/agent/**"],
    rules: { "no-restricted-imports": ["error", { patterns: [noCoordinatorInAgent] }] },
  },
  {
    files: ["bench/**", "tests/**"],
    rules: { "no-restricted-imports": ["error", { patterns: [throughPackageExports] }] },
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
