// Where an agent's join token comes from. On the command line it is visible
// in `ps` (and /proc/PID/cmdline) to every user of the machine for the
// agent's whole life, so a file or the environment is preferred, and
// --token gets a warning and is blanked from the process title.
import { readFile } from "node:fs/promises";
import { CliError } from "../client.ts";

export const JOIN_TOKEN_ENV = "FLOTILLA_JOIN_TOKEN";

export interface JoinTokenFlags {
  token: string | undefined;
  tokenFile: string | undefined;
}

export interface JoinTokenSource {
  token: string | undefined;
  /** Said on stderr when the token came the insecure way. */
  warning: string | undefined;
}

/**
 * The join token from --token-file, --token or FLOTILLA_JOIN_TOKEN (at most
 * one flag). The variable is removed from `env` at once, so the model
 * servers the agent starts do not inherit it.
 */
export async function takeJoinToken(flags: JoinTokenFlags, env: NodeJS.ProcessEnv): Promise<JoinTokenSource> {
  const fromEnv = env[JOIN_TOKEN_ENV]?.trim() || undefined;
  delete env[JOIN_TOKEN_ENV];
  if (flags.token !== undefined && flags.tokenFile !== undefined) {
    throw new CliError("give the join token once: --token-file FILE or --token TOKEN, not both");
  }
  if (flags.tokenFile !== undefined) return { token: await readTokenFile(flags.tokenFile), warning: undefined };
  if (flags.token !== undefined) {
    return {
      token: flags.token,
      warning:
        "warning: a join token on the command line is visible to every user of this machine (ps); " +
        `prefer --token-file FILE or ${JOIN_TOKEN_ENV}`,
    };
  }
  return { token: fromEnv, warning: undefined };
}

async function readTokenFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new CliError(`cannot read the join token from --token-file ${file}: ${(err as Error).message}`);
  }
  const token = text.trim();
  if (token === "" || /\s/.test(token)) {
    throw new CliError(`--token-file ${file} must hold one join token (from \`flotilla token create\`) and nothing else`);
  }
  return token;
}

/** argv with the value of every --token blanked, for the process title. */
export function withoutTokenValues(argv: readonly string[]): string[] {
  return argv.map((arg, i) => (argv[i - 1] === "--token" ? "***" : arg.startsWith("--token=") ? "--token=***" : arg));
}
