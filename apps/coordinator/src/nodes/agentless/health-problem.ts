// Why an agentless node's health check failed, in words that say what to do.
// A server that refuses the coordinator (401/403) is the commonest mistake
// with servers that have client keys: the cluster file names no apiKeyEnv, or
// the variable holds the wrong key. Pure: (status, whether a token was sent).
export function refusedHealthCheck(status: number, sentToken: boolean): string | undefined {
  if (status !== 401 && status !== 403) return undefined;
  return sentToken
    ? `${status} from the node: it refused the token from apiKeyEnv; check that the variable holds one of its keys`
    : `${status} from the node: it needs a key; set apiKeyEnv to the variable that holds one (the cluster file or \`cluster add --api-key-env\`)`;
}
