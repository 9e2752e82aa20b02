// The README's example configuration files are valid as written: a user
// copies them, so a field renamed in the schemas must be renamed there too.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { loadClusterFile } from "@flotilla/coordinator/config";
import { workloadTemplates } from "@flotilla/agent/templates";
import { REPO_ROOT } from "@flotilla/testkit";

async function yamlBlocksOf(section: string): Promise<string[]> {
  const readme = await readFile(path.join(REPO_ROOT, "README.md"), "utf8");
  const start = readme.indexOf(`## ${section}\n`);
  assert.ok(start >= 0, `the README has a "${section}" section`);
  const end = readme.indexOf("\n## ", start + 1);
  return [...readme.slice(start, end === -1 ? undefined : end).matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
}

test("the pools-and-roamers section's cluster file and roamer config are valid", async () => {
  const [cluster, roamer] = await yamlBlocksOf("Pools and roamers");
  assert.ok(cluster !== undefined && roamer !== undefined, "two YAML examples");
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-readme-"));
  try {
    const file = path.join(dir, "cluster.yaml");
    await writeFile(file, cluster);
    const loaded = await loadClusterFile(file, {});
    assert.deepEqual(Object.keys(loaded.pools), ["vision", "voice", "brain"]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const templates = workloadTemplates.safeParse((parse(roamer) as { templates: unknown }).templates);
  assert.ok(templates.success, JSON.stringify(templates.error?.issues));
  assert.deepEqual(Object.values(templates.data).map((t) => t.driver), ["llama", "process", "container", "nomad"]);
});
