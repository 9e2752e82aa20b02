// `flotilla keys create|list|revoke`: client API keys for /v1.
import { apiKeyCreated, apiKeyList, noContent } from "@flotilla/protocol";
import { adminRequest, type ClientTarget } from "../client.ts";
import { table } from "../table.ts";
import { printable } from "../printable.ts";

export async function createKey(target: ClientTarget, env: NodeJS.ProcessEnv, name: string): Promise<void> {
  const created = await adminRequest(target, env, "POST", "/cluster/keys", apiKeyCreated, { name });
  // The key alone on stdout, for scripts; it is shown this once and never again.
  process.stdout.write(`${printable(created.key)}\n`);
  process.stderr.write(`${printable(`created API key "${created.name}" (id ${created.id}); store it now, it cannot be shown again`)}\n`);
}

export async function listKeys(target: ClientTarget, env: NodeJS.ProcessEnv, json: boolean): Promise<void> {
  const { keys } = await adminRequest(target, env, "GET", "/cluster/keys", apiKeyList);
  if (json) {
    process.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
    return;
  }
  if (keys.length === 0) {
    process.stdout.write("no API keys: /v1 is open to anyone who can reach it\n");
    return;
  }
  const rows = keys.map((k) => [k.id, k.name, `${k.prefix}…`, new Date(k.createdAtMs).toISOString()]);
  process.stdout.write(table(["ID", "NAME", "KEY", "CREATED"], rows));
}

export async function revokeKey(target: ClientTarget, env: NodeJS.ProcessEnv, id: string): Promise<void> {
  await adminRequest(target, env, "DELETE", `/cluster/keys/${encodeURIComponent(id)}`, noContent);
  process.stderr.write(`revoked API key ${id}\n`);
}
