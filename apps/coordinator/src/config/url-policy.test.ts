import { test } from "node:test";
import assert from "node:assert/strict";
import {
  NetworkAllowlist,
  checkAddress,
  checkNodeUrl,
  normalizeAddress,
  resolveAndCheckNodeUrl,
  type LookupAll,
} from "./url-policy.ts";

const defaults = NetworkAllowlist.default();

function refused(raw: string, allowed = defaults): string {
  const result = checkNodeUrl(raw, allowed);
  assert.equal(result.ok, false, `${raw} should be refused`);
  return result.ok ? "" : result.reason;
}

function accepted(raw: string, allowed = defaults): URL {
  const result = checkNodeUrl(raw, allowed);
  assert.ok(result.ok, `${raw} should be accepted: ${result.ok ? "" : result.reason}`);
  return result.url;
}

test("only http and https", () => {
  accepted("http://10.0.0.5:11434");
  accepted("https://192.168.1.20/v1");
  for (const raw of ["ftp://10.0.0.5/", "file:///etc/passwd", "gopher://127.0.0.1:6379/", "ws://10.0.0.5/", "javascript:alert(1)"]) {
    assert.match(refused(raw), /scheme/);
  }
  assert.match(refused("not a url"), /not a URL/);
});

test("credentials in the URL and fragments are refused", () => {
  assert.match(refused("http://user:pass@10.0.0.5/"), /user name or password/);
  assert.match(refused("http://user@10.0.0.5/"), /user name or password/);
  assert.match(refused("http://10.0.0.5/#x"), /fragment/);
  assert.match(refused("http://10.0.0.5/#"), /fragment/);
});

test("loopback, private and IPv6 link-local addresses are allowed by default", () => {
  for (const host of ["127.0.0.1", "127.1.2.3", "10.1.2.3", "172.16.0.1", "172.31.255.254", "192.168.1.20", "[::1]", "[fd12:3456::1]", "[fe80::1]"]) {
    accepted(`http://${host}:8080/`);
  }
});

test("public addresses are refused, including spellings the URL parser normalises", () => {
  for (const host of ["8.8.8.8", "172.32.0.1", "100.64.0.1", "0.0.0.0", "[2001:4860:4860::8888]", "[::]"]) {
    assert.match(refused(`http://${host}/`), /outside the allowed networks/);
  }
  // 0x08080808 and 134744072 are 8.8.8.8; 0x7f.1 is 127.0.0.1.
  assert.match(refused("http://0x08080808/"), /8\.8\.8\.8 is outside/);
  assert.match(refused("http://134744072/"), /8\.8\.8\.8 is outside/);
  assert.equal(accepted("http://0x7f.1/").hostname, "127.0.0.1");
});

test("cloud metadata is refused though link-local is allowed", () => {
  assert.match(refused("http://169.254.169.254/latest/meta-data/"), /cloud metadata/);
  assert.match(refused("http://[fd00:ec2::254]/"), /cloud metadata/);
  assert.match(refused("http://[::ffff:169.254.169.254]/"), /cloud metadata/);
  // A custom allowlist keeps the refusal unless the caller drops it on purpose.
  const linkLocal = NetworkAllowlist.fromCidrs(["169.254.0.0/16"]);
  assert.match(refused("http://169.254.169.254/", linkLocal), /cloud metadata/);
  assert.ok(NetworkAllowlist.fromCidrs(["169.254.0.0/16"], { deny: [] }).allows("169.254.169.254"));
});

test("the clouds' link-local ranges are refused by default, credential services included", () => {
  // ECS task credentials, EKS pod identity (v4 and v6), Amazon DNS and time, and any other address there.
  for (const host of ["169.254.170.2", "169.254.170.23", "[fd00:ec2::23]", "169.254.169.253", "169.254.169.123", "169.254.10.10", "[::ffff:169.254.170.2]"]) {
    assert.match(refused(`http://${host}/`), /clouds serve metadata and credentials/, host);
  }
  // A broad entry covers them but does not name them: still refused.
  const everything = NetworkAllowlist.fromCidrs(["0.0.0.0/0", "::/0"]);
  assert.match(refused("http://169.254.170.2/", everything), /clouds serve metadata/);
  assert.match(refused("http://[fd00:ec2::23]/", everything), /clouds serve metadata/);
  assert.equal(accepted("http://8.8.8.8/", everything).hostname, "8.8.8.8");
});

test("an allowedNetworks entry inside a cloud range allows that part of it, never the metadata service", () => {
  const box = NetworkAllowlist.fromCidrs(["169.254.10.0/24"]);
  assert.ok(box.allows("169.254.10.10"));
  assert.match(box.problemWith("169.254.170.2") ?? "", /outside the allowed networks|clouds serve/);
  const linkLocal = NetworkAllowlist.fromCidrs(["169.254.0.0/16", "fd00:ec2::/32"]);
  assert.ok(linkLocal.allows("169.254.170.2"));
  assert.ok(linkLocal.allows("fd00:ec2::23"));
  assert.match(linkLocal.problemWith("169.254.169.254") ?? "", /cloud metadata/);
});

test("IPv4-mapped IPv6 is judged as the IPv4 address", () => {
  assert.deepEqual(normalizeAddress("::ffff:10.0.0.1"), { address: "10.0.0.1", family: "ipv4" });
  assert.deepEqual(normalizeAddress("[::ffff:a00:1]"), { address: "10.0.0.1", family: "ipv4" });
  accepted("http://[::ffff:10.0.0.1]/");
  accepted("http://[::ffff:127.0.0.1]/");
  assert.match(refused("http://[::ffff:8.8.8.8]/"), /::ffff:808:808 \(8\.8\.8\.8\) is outside/);
  const tenOnly = NetworkAllowlist.fromCidrs(["10.0.0.0/8"]);
  assert.equal(checkAddress("::ffff:10.1.1.1", tenOnly), null);
  assert.notEqual(checkAddress("::ffff:8.8.8.8", tenOnly), null);
});

test("IPv6 addresses are compared in canonical form", () => {
  const allowed = NetworkAllowlist.fromCidrs(["2001:db8::/32"]);
  accepted("http://[2001:DB8:0:0::1]:9000/", allowed);
  assert.match(refused("http://[2001:db9::1]/", allowed), /outside/);
  assert.equal(checkAddress("fe80::1%eth0", defaults) !== null, true, "scoped addresses are refused");
  assert.equal(checkAddress("not-an-ip", defaults), "not-an-ip is not an IP address");
});

test("a custom allowlist replaces the default", () => {
  const allowed = NetworkAllowlist.fromCidrs(["100.64.0.0/10", "10.9.8.7"]);
  accepted("http://100.101.102.103:11434/", allowed);
  accepted("http://10.9.8.7/", allowed);
  assert.match(refused("http://10.9.8.8/", allowed), /outside the allowed networks \(100\.64\.0\.0\/10, 10\.9\.8\.7\)/);
  assert.match(refused("http://127.0.0.1/", allowed), /outside/);
  assert.match(refused("http://100.100.100.200/", allowed), /cloud metadata/);
});

test("a malformed CIDR throws an error naming it", () => {
  for (const bad of ["10.0.0.0/33", "10.0.0.300/8", "fe80::/129", "10.0.0.0/8/8", "10.0.0.0/x", "", "example.com/24", "10.0.0.0/-1"]) {
    assert.throws(() => NetworkAllowlist.fromCidrs(["127.0.0.0/8", bad]), (err: Error) => err.message.startsWith("allowedNetworks[1]: "), bad);
  }
});

test("a hostname passes the pure check and is judged by what it resolves to", async () => {
  accepted("http://gpu-box.lan:8000/v1");
  const lookupOf = (addresses: string[]): LookupAll => (host) => {
    assert.equal(host, "gpu-box.lan");
    return Promise.resolve(addresses.map((address) => ({ address })));
  };

  const ok = await resolveAndCheckNodeUrl("http://gpu-box.lan:8000/v1", defaults, lookupOf(["192.168.1.30", "fd00::30"]));
  assert.ok(ok.ok);
  assert.deepEqual(ok.addresses, ["192.168.1.30", "fd00::30"]);

  const publicOnly = await resolveAndCheckNodeUrl("http://gpu-box.lan:8000/", defaults, lookupOf(["93.184.216.34"]));
  assert.ok(!publicOnly.ok);
  assert.match(publicOnly.reason, /gpu-box\.lan resolves to 93\.184\.216\.34 is outside/);

  // One public address among private ones is enough to refuse.
  const mixed = await resolveAndCheckNodeUrl("http://gpu-box.lan/", defaults, lookupOf(["10.0.0.2", "93.184.216.34"]));
  assert.ok(!mixed.ok);

  const metadata = await resolveAndCheckNodeUrl("http://gpu-box.lan/", defaults, lookupOf(["169.254.169.254"]));
  assert.ok(!metadata.ok);
  assert.match(metadata.reason, /cloud metadata/);

  const none = await resolveAndCheckNodeUrl("http://gpu-box.lan/", defaults, lookupOf([]));
  assert.ok(!none.ok);
  const failing: LookupAll = () => Promise.reject(new Error("ENOTFOUND"));
  const unresolved = await resolveAndCheckNodeUrl("http://gpu-box.lan/", defaults, failing);
  assert.ok(!unresolved.ok);
  assert.match(unresolved.reason, /cannot resolve gpu-box\.lan: ENOTFOUND/);
});

test("IP literals are not looked up, and the pure refusals come first", async () => {
  const noLookup: LookupAll = () => Promise.reject(new Error("must not be called"));
  const literal = await resolveAndCheckNodeUrl("http://[::1]:8080/", defaults, noLookup);
  assert.ok(literal.ok);
  assert.deepEqual(literal.addresses, ["::1"]);
  const scheme = await resolveAndCheckNodeUrl("file:///etc/passwd", defaults, noLookup);
  assert.ok(!scheme.ok);
});

test("localhost resolves through the system resolver to loopback", async () => {
  const result = await resolveAndCheckNodeUrl("http://localhost:11434/", defaults);
  assert.ok(result.ok, result.ok ? "" : result.reason);
});
