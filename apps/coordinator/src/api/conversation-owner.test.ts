import { test } from "node:test";
import assert from "node:assert/strict";
import { hashSecret } from "@flotilla/security";
import { callerOf } from "./conversation-owner.ts";

const isAdminKey = (token: string) => token === "flt_admin_x";

test("open mode has one owner; a key is named by its hash, never by itself; the admin key is admin", () => {
  assert.deepEqual(callerOf({ keysRequired: false, token: undefined, isAdminKey }), { owner: "open", admin: false });
  assert.deepEqual(callerOf({ keysRequired: false, token: "flt_api_a", isAdminKey }), { owner: "open", admin: false }, "no key exists: a token names no one");
  assert.deepEqual(callerOf({ keysRequired: false, token: "flt_admin_x", isAdminKey }), { owner: "open", admin: true });
  const keyed = callerOf({ keysRequired: true, token: "flt_api_a", isAdminKey });
  assert.deepEqual(keyed, { owner: `key:${hashSecret("flt_api_a")}`, admin: false });
  assert.ok(!keyed.owner.includes("flt_api_a"));
  assert.deepEqual(callerOf({ keysRequired: true, token: "flt_admin_x", isAdminKey }), { owner: "admin", admin: true });
});
