import { test } from "node:test";
import assert from "node:assert/strict";
import { belongsTo, originsOf, parseOrigins, renderOrigins } from "./admin-key-scope.ts";

test("a loopback coordinator is reached through every loopback name, and nothing else", () => {
  const origins = originsOf("127.0.0.1", 8080, ["192.168.1.5"]);
  assert.deepEqual(origins, ["http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"]);
  assert.ok(belongsTo("http://localhost:8080/", origins));
  assert.ok(belongsTo("http://127.0.0.1:8080/cluster/status", origins));
  for (const other of ["http://127.0.0.1:8081", "https://127.0.0.1:8080", "http://192.168.1.5:8080", "http://evil.example:8080", "not a url"]) {
    assert.equal(belongsTo(other, origins), false, other);
  }
});

test("a wildcard bind adds this machine's own addresses; a specific one is only itself", () => {
  const wildcard = originsOf("0.0.0.0", 9000, ["127.0.0.1", "192.168.1.5", "fe80::1%eth0", "fd00::5"]);
  assert.deepEqual(wildcard, ["http://127.0.0.1:9000", "http://localhost:9000", "http://[::1]:9000", "http://192.168.1.5:9000", "http://[fd00::5]:9000"]);
  assert.deepEqual(originsOf("192.168.1.5", 9000, ["192.168.1.5"]), ["http://192.168.1.5:9000"]);
  assert.deepEqual(originsOf("::", 1, []), ["http://127.0.0.1:1", "http://localhost:1", "http://[::1]:1"]);
});

test("the file round-trips; lines that are not an origin are ignored", () => {
  const origins = ["http://127.0.0.1:8080", "http://[::1]:8080"];
  assert.deepEqual(parseOrigins(renderOrigins(origins)), origins);
  assert.deepEqual(parseOrigins("http://a:1/path\n# comment\nftp://x\n\nhttp://b:2\n"), ["http://b:2"]);
});
