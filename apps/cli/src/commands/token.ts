// `flotilla token create`: a join token for one more machine.
import { joinTokenCreated } from "@flotilla/protocol";
import { adminRequest, type ClientTarget } from "../client.ts";
import { printable } from "../printable.ts";

export async function createToken(target: ClientTarget, env: NodeJS.ProcessEnv, ttlMs: number, uses: number): Promise<void> {
  const created = await adminRequest(target, env, "POST", "/cluster/tokens", joinTokenCreated, { ttlMs, uses });
  process.stdout.write(`${printable(created.token)}\n`);
  const expires = new Date(created.expiresAtMs).toISOString();
  process.stderr.write(`join token for ${created.uses} machine(s), valid until ${expires}: flotilla agent --join ${target.url} --token-file FILE (or FLOTILLA_JOIN_TOKEN)\n`);
}
