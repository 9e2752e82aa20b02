// A Lua script run by its SHA1 (EVALSHA), so each call sends a digest, not
// the script; Redis answers NOSCRIPT when it does not have it (a restart, a
// SCRIPT FLUSH), and then it is sent once in full (EVAL), which loads it.
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

export class RedisScript {
  readonly #lua: string;
  readonly #sha: string;

  constructor(lua: string) {
    this.#lua = lua;
    this.#sha = createHash("sha1").update(lua).digest("hex");
  }

  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
      return redis.eval(this.#lua, keys.length, ...keys, ...args);
    }
  }
}
