// The file store's limits: how large one file may be and how long it is
// kept. Read once at start-up, from options or FLOTILLA_MAX_FILE_BYTES /
// FLOTILLA_FILE_RETENTION_DAYS (docs/adr/0037).
export interface FileLimits {
  /** One file's limit, enforced while it streams in. */
  maxFileBytes: number;
  /** How long a file is kept after it was made, unless it says otherwise. */
  retentionMs: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export const DEFAULT_FILE_LIMITS: Readonly<FileLimits> = {
  maxFileBytes: 100 * 1024 * 1024,
  retentionMs: 30 * DAY_MS,
};

/** The limits the environment sets, the defaults elsewhere; throws naming a variable that is not a positive whole number. */
export function fileLimitsFromEnv(env: NodeJS.ProcessEnv): FileLimits {
  return {
    maxFileBytes: positive(env, "FLOTILLA_MAX_FILE_BYTES") ?? DEFAULT_FILE_LIMITS.maxFileBytes,
    retentionMs: (positive(env, "FLOTILLA_FILE_RETENTION_DAYS") ?? DEFAULT_FILE_LIMITS.retentionMs / DAY_MS) * DAY_MS,
  };
}

function positive(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === "") return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number, not ${JSON.stringify(text.slice(0, 40))}`);
  return value;
}
