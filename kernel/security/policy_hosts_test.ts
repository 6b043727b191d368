import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { HostRules } from "./policy_hosts.ts";

const test = (name: string, fn: () => void) =>
  Deno.test({ name, permissions: "none", fn });

test("`HostRules.check()` allows a public host when no list applies", () => {
  assert.equal(new HostRules().check("api.example.com"), null);
  assert.equal(new HostRules().check("8.8.8.8"), null);
});

test("`HostRules.check()` blocks a denied host however it is spelled", () => {
  const rules = new HostRules({ denied: ["evil.com", "93.184.216.34"] });
  for (
    const h of [
      "evil.com",
      "EVIL.com.",
      "93.184.216.34",
      "1572395042",
      "::ffff:93.184.216.34",
    ]
  ) {
    assert.equal(rules.check(h)?.rule, "denied_hosts", h);
  }
  assert.equal(rules.check("notevil.com"), null);
});

test("`HostRules.check()` blocks private and local addresses by default", () => {
  const rules = new HostRules();
  for (
    const h of [
      "127.0.0.1",
      "2130706433",
      "0x7f000001",
      "0177.0.0.1",
      "127.1",
      "localhost",
      "::1",
      "::ffff:127.0.0.1",
      "10.0.0.1",
      "192.168.1.1",
      "172.16.0.1",
      "169.254.1.1",
      "100.64.0.1",
      "0.0.0.0",
      "fc00::1",
      "fe80::1",
    ]
  ) {
    const hit = rules.check(h);
    assert.equal(hit?.rule, "allow_private_networks", h);
  }
});

test("`HostRules.check()` allows private addresses with allow_private_networks", () => {
  const rules = new HostRules({ allowPrivateNetworks: true });
  for (
    const h of ["127.0.0.1", "localhost", "::ffff:10.0.0.1", "192.168.1.1"]
  ) {
    assert.equal(rules.check(h), null, h);
  }
});

test("`HostRules.check()` blocks cloud metadata even with allow_private_networks and allowed_hosts", () => {
  const rules = new HostRules({
    allowPrivateNetworks: true,
    allowed: ["169.254.169.254", "metadata.google.internal"],
  });
  for (
    const h of [
      "169.254.169.254",
      "0xa9fea9fe",
      "::ffff:169.254.169.254",
      "fd00:ec2::254",
      "metadata.google.internal",
      "100.100.100.200",
    ]
  ) {
    assert.equal(rules.check(h)?.rule, "cloud_metadata", h);
  }
});

test("`HostRules.check()` allows only allowed_hosts when the list is non-empty", () => {
  const rules = new HostRules({ allowed: ["api.example.com", "*.github.com"] });
  assert.equal(rules.check("api.example.com"), null);
  assert.equal(rules.check("API.EXAMPLE.COM"), null);
  assert.equal(rules.check("raw.github.com"), null);
  assert.equal(rules.check("a.b.github.com"), null);
  assert.equal(rules.check("github.com")?.rule, "allowed_hosts");
  assert.equal(rules.check("evilgithub.com")?.rule, "allowed_hosts");
  assert.equal(rules.check("example.com")?.rule, "allowed_hosts");
});

test("`HostRules.check()` lets deny beat allow, also for wildcards", () => {
  const rules = new HostRules({
    denied: ["*.evil.example.com", "bad.example.com"],
    allowed: ["*.example.com"],
  });
  assert.equal(rules.check("good.example.com"), null);
  assert.equal(rules.check("bad.example.com")?.rule, "denied_hosts");
  assert.equal(rules.check("x.evil.example.com")?.entry, "*.evil.example.com");
});

test("`HostRules.check()` blocks invalid hosts instead of guessing", () => {
  const rules = new HostRules({ allowPrivateNetworks: true });
  for (const h of ["", "a b", "evil.com:80", "a@b.com", "x/y"]) {
    assert.equal(rules.check(h)?.rule, "invalid_host", h);
  }
});

test("`HostRules.checkOpaque()` compares non-host destinations verbatim", () => {
  const rules = new HostRules({ denied: ["ops"], allowed: ["team"] });
  assert.equal(rules.checkOpaque("OPS")?.rule, "denied_hosts");
  assert.equal(rules.checkOpaque("team"), null);
  assert.equal(rules.checkOpaque("other")?.rule, "allowed_hosts");
  assert.equal(rules.checkOpaque("a@team")?.rule, "allowed_hosts");
  assert.equal(new HostRules().checkOpaque("anything@corp"), null);
});

test("`new HostRules()` names the key and entry of an invalid host entry", () => {
  for (const bad of ["evil.com:80", "api.*.com", "*.", "*.127.0.0.1", "a b"]) {
    assert.throws(
      () => new HostRules({ denied: [bad] }),
      (e) =>
        KernelError.is(e, "CONFIG_INVALID") &&
        e.message.includes("security.policy.denied_hosts") &&
        e.data?.entry === bad,
      bad,
    );
  }
  assert.throws(
    () => new HostRules({ allowed: ["http://x.com/"] }),
    (e) =>
      KernelError.is(e, "CONFIG_INVALID") &&
      e.message.includes("security.policy.allowed_hosts"),
  );
});
