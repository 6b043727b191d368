import assert from "node:assert/strict";
import { netValue, netValues, parseNetGrant } from "./net_flag_entries.ts";

Deno.test("parseNetGrant: reads '*', names, ports, IPv4 and IPv6 entries", () => {
  assert.deepEqual(parseNetGrant("*"), { kind: "any" });
  assert.deepEqual(parseNetGrant("api.x.com"), {
    kind: "name",
    host: "api.x.com",
    port: undefined,
  });
  assert.deepEqual(parseNetGrant("10.0.0.1:8080"), {
    kind: "ip",
    host: "10.0.0.1",
    port: "8080",
  });
  assert.deepEqual(parseNetGrant("[fe80::1]:53"), {
    kind: "ip",
    host: "fe80::1",
    port: "53",
  });
  assert.deepEqual(parseNetGrant("::1"), {
    kind: "ip",
    host: "::1",
    port: undefined,
  });
});

Deno.test("netValue: IPv6 addresses are bracketed so that the port stays apart", () => {
  assert.equal(netValue("::1", "80"), "[::1]:80");
  assert.equal(netValue("a.com", undefined), "a.com");
});

Deno.test("netValues: a name brings its subdomains (when asked) and its current addresses, with the port", async () => {
  const values = await netValues(
    { kind: "name", host: "a.com", port: "443" },
    "why",
    () => Promise.resolve(["192.0.2.1", "2001:db8::1"]),
    true,
  );
  assert.deepEqual(values.map((v) => v.value), [
    "a.com:443",
    "*.a.com:443",
    "192.0.2.1:443",
    "[2001:db8::1]:443",
  ]);
  const exact = await netValues(
    { kind: "name", host: "a.com", port: undefined },
    "why",
    () => Promise.resolve([]),
    false,
  );
  assert.deepEqual(exact.map((v) => v.value), ["a.com"]);
});
