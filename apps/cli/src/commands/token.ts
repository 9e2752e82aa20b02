// `flotilla token create`: a join token for one more machine.
import { adminRequest, CliError, type ClientTarget } from "../client.ts";

export async function createToken(target: ClientTarget, env: NodeJS.ProcessEnv, ttlMs: number, uses: number): Promise<void> {
  const created = (await adminRequest(target, env, "POST", "/cluster/tokens", { ttlMs, uses })) as {
    token?: unknown;
    expiresAtMs?: unknown;
  };
  if (typeof created.token !== "string") throw new CliError("the coordinator did not return a token");
  process.stdout.write(`${created.token}\n`);
  const expires = typeof created.expiresAtMs === "number" ? new Date(created.expiresAtMs).toISOString() : "?";
  process.stderr.write(`join token for ${uses} machine(s), valid until ${expires}: flotilla agent --join ${target.url} --token <token>\n`);
}
