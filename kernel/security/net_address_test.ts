import assert from "node:assert/strict";
import {
  classifyHost,
  hostFromUrl,
  parseHostPort,
  urlParts,
} from "./net_address.ts";

const test = (name: string, fn: () => void) =>
  Deno.test({ name, permissions: "none", fn });

function kind(h: string): string {
  return classifyHost(h).kind;
}

test("`classifyHost()` folds every IPv4 spelling of loopback into 127.0.0.1", () => {
  for (
    const h of [
      "127.0.0.1",
      "2130706433",
      "0x7f000001",
      "0177.0.0.1",
      "127.1",
      "0x7f.1",
      "127.0.0.1.",
      "127.0.0.%31",
      "１２７.０.０.１",
    ]
  ) {
    assert.deepEqual(classifyHost(h), {
      kind: "loopback",
      normalized: "127.0.0.1",
    }, h);
  }
});

test("`classifyHost()` unwraps IPv4-mapped, compatible, SIIT, NAT64 and 6to4 IPv6", () => {
  const cases: Array<[string, string, string]> = [
    ["::ffff:127.0.0.1", "loopback", "127.0.0.1"],
    ["[::ffff:7f00:1]", "loopback", "127.0.0.1"],
    ["::127.0.0.1", "loopback", "127.0.0.1"],
    ["::ffff:0:a00:1", "private", "10.0.0.1"],
    ["64:ff9b::192.168.1.1", "private", "192.168.1.1"],
    ["64:ff9b::a9fe:a9fe", "metadata", "169.254.169.254"],
    ["2002:a9fe:a9fe::1", "metadata", "169.254.169.254"],
    ["::ffff:8.8.8.8", "public", "8.8.8.8"],
  ];
  for (const [h, k, v4] of cases) {
    const c = classifyHost(h);
    assert.equal(c.kind, k, h);
    assert.equal(c.embeddedIpv4, v4, h);
  }
});

test("`classifyHost()` classifies IPv4 special ranges", () => {
  const cases: Array<[string, string]> = [
    ["10.0.0.1", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.0.1", "private"],
    ["169.254.1.1", "link_local"],
    ["100.64.0.1", "cgnat"],
    ["100.127.255.255", "cgnat"],
    ["0.0.0.0", "unspecified"],
    ["0", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["240.0.0.1", "reserved"],
  ];
  for (const [h, k] of cases) assert.equal(kind(h), k, h);
});

test("`classifyHost()` keeps the neighbours of special ranges public", () => {
  for (
    const h of [
      "172.15.255.255",
      "172.32.0.0",
      "100.63.255.255",
      "100.128.0.0",
      "11.0.0.1",
      "8.8.8.8",
      "1.1.1.1",
      "169.253.255.255",
    ]
  ) {
    assert.equal(kind(h), "public", h);
  }
});

test("`classifyHost()` classifies IPv6 special ranges", () => {
  const cases: Array<[string, string]> = [
    ["::1", "loopback"],
    ["[::1]", "loopback"],
    ["::", "unspecified"],
    ["fc00::1", "private"],
    ["fdff:ffff::1", "private"],
    ["fe80::1", "link_local"],
    ["febf::1", "link_local"],
    ["ff02::1", "multicast"],
    ["2606:4700:4700::1111", "public"],
    ["2001:4860:4860::8888", "public"],
  ];
  for (const [h, k] of cases) assert.equal(kind(h), k, h);
});

test("`classifyHost()` marks cloud metadata addresses and names as metadata", () => {
  for (
    const h of [
      "169.254.169.254",
      "169.254.170.2",
      "100.100.100.200",
      "fd00:ec2::254",
      "[fd00:ec2::254]",
      "metadata.google.internal",
      "METADATA.google.internal.",
      "metadata",
      "instance-data",
      "0xa9fea9fe",
      "::ffff:169.254.169.254",
    ]
  ) {
    assert.equal(kind(h), "metadata", h);
  }
  assert.equal(kind("169.254.169.253"), "link_local");
});

test("`classifyHost()` treats localhost names as loopback, even spelled oddly", () => {
  for (const h of ["localhost", "LOCALHOST.", "api.localhost", "ⓛocalhost"]) {
    assert.equal(kind(h), "loopback", h);
  }
  assert.equal(kind("localhost.example.com"), "public");
});

test("`classifyHost()` treats single labels and local suffixes as private", () => {
  for (const h of ["router", "printer.local", "db.internal", "nas.home.arpa"]) {
    assert.equal(kind(h), "private", h);
  }
  assert.equal(kind("internal.example.com"), "public");
});

test("`classifyHost()` normalises names to lower-case punycode without the root dot", () => {
  assert.deepEqual(classifyHost("API.Example.COM."), {
    kind: "public",
    normalized: "api.example.com",
  });
  assert.equal(classifyHost("例え.jp").normalized, "xn--r8jz45g.jp");
});

test("`classifyHost()` refuses ports, userinfo, paths, spaces and wildcards", () => {
  for (
    const h of [
      "",
      "evil.com:80",
      "[::1]:443",
      "a@127.0.0.1",
      "evil.com/x",
      "evil.com?x",
      "a b",
      "a\tb.com",
      "*.example.com",
      "256.1.1.1",
      "[::1",
      "fe80::1%eth0",
      "a..b",
    ]
  ) {
    const c = classifyHost(h);
    assert.equal(c.kind, "invalid", h);
    assert.equal(c.normalized, "");
    assert.ok((c.reason ?? "").length > 0);
  }
});

test("`hostFromUrl()` sees through userinfo tricks", () => {
  assert.equal(hostFromUrl("http://api.github.com@127.0.0.1/"), "127.0.0.1");
  assert.equal(
    hostFromUrl("http://api.github.com:443@169.254.169.254/latest"),
    "169.254.169.254",
  );
  assert.equal(hostFromUrl("http://127.0.0.1\\@evil.com/"), "127.0.0.1");
  assert.equal(hostFromUrl("http://evil.com#@127.0.0.1"), "evil.com");
});

test("`hostFromUrl()` normalises encoded IP literals in any scheme", () => {
  assert.equal(hostFromUrl("http://0x7f000001:8080/x"), "127.0.0.1");
  assert.equal(hostFromUrl("foo://2130706433/x"), "127.0.0.1");
  assert.equal(hostFromUrl("https://[::ffff:127.0.0.1]/"), "::ffff:7f00:1");
  assert.equal(hostFromUrl("https://API.example.com/v1"), "api.example.com");
});

test("`hostFromUrl()` returns null for invalid URLs and URLs without a host", () => {
  for (const u of ["not a url", "/relative", "mailto:a@b.com", "file:///etc"]) {
    assert.equal(hostFromUrl(u), null, u);
  }
});

test("`parseHostPort()` accepts host, host:port and bracketed IPv6 with a port", () => {
  assert.deepEqual(parseHostPort("example.com"), {
    host: "example.com",
    port: null,
  });
  assert.deepEqual(parseHostPort("127.1:65535"), {
    host: "127.0.0.1",
    port: 65535,
  });
  assert.deepEqual(parseHostPort("::1"), { host: "::1", port: null });
  assert.deepEqual(parseHostPort("[::1]:1"), { host: "::1", port: 1 });
});

test("`parseHostPort()` refuses bad ports and hosts", () => {
  for (
    const v of [
      "example.com:0",
      "example.com:65536",
      "a:b",
      "[::1]:",
      ":80",
      "a b:80",
    ]
  ) {
    assert.equal(parseHostPort(v), null, v);
  }
});

test("`urlParts()`, `hostFromUrl()` and `classifyHost()` answer a repeated input the same, with frozen results, and stay bounded", () => {
  const first = urlParts("https://API.example.com:8443/x");
  assert.deepEqual(first, {
    protocol: "https:",
    hostname: "api.example.com",
    port: "8443",
  });
  assert.equal(urlParts("https://API.example.com:8443/x"), first);
  assert.ok(Object.isFrozen(first));
  assert.equal(urlParts("http://[::1"), null);
  assert.equal(urlParts("http://[::1"), null);
  const c = classifyHost("169.254.169.254");
  assert.ok(Object.isFrozen(c));
  assert.equal(classifyHost("169.254.169.254").kind, "metadata");
  // Many distinct inputs: answers stay right after the memory is cleared.
  for (let i = 0; i < 2_000; i++) {
    assert.equal(hostFromUrl(`http://h${i}.example.com/`), `h${i}.example.com`);
  }
  assert.equal(hostFromUrl("http://api.github.com@127.0.0.1/"), "127.0.0.1");
  assert.equal(kind("127.1"), "loopback");
});
