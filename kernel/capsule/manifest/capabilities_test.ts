import assert from "node:assert/strict";
import { bad, issueAt, ok, PKG } from "./_manifest_fixture_test.ts";

Deno.test({
  name: "`parseManifest()` defaults every capability to deny",
  permissions: "none",
  fn() {
    assert.deepEqual(ok(...PKG).capabilities, {
      uplink: false,
      net: [],
      kv: [],
      fs_read: [],
      fs_write: [],
      host_process: [],
      net_bind: [],
      ipc_publish: [],
      ipc_subscribe: [],
      identity: [],
      allow_prompt_injection: false,
      approval: false,
    });
  },
});

Deno.test({
  name:
    "`parseManifest()` appends the component's five capability lists without duplicates",
  permissions: "none",
  fn() {
    const m = ok(
      ...PKG,
      "[[component]]",
      'file = "a.wasm"',
      "[component.capabilities]",
      'fs_read = ["cwd://a", "cwd://shared"]',
      'fs_write = ["cwd://out"]',
      'host_process = ["ls"]',
      'net = ["b.example.com"]',
      'net_bind = ["unix"]',
      "[capabilities]",
      'fs_read = ["cwd://shared"]',
      'net = ["a.example.com"]',
    );
    assert.deepEqual(m.capabilities.fs_read, ["cwd://shared", "cwd://a"]);
    assert.deepEqual(m.capabilities.fs_write, ["cwd://out"]);
    assert.deepEqual(m.capabilities.host_process, ["ls"]);
    assert.deepEqual(m.capabilities.net, ["a.example.com", "b.example.com"]);
    assert.deepEqual(m.capabilities.net_bind, ["unix"]);
  },
});

Deno.test({
  name: "`parseManifest()` refuses other capability fields on a component",
  permissions: "none",
  fn() {
    const issues = bad(
      ...PKG,
      "[[component]]",
      'file = "a.wasm"',
      "[component.capabilities]",
      "uplink = true",
      'ipc_publish = ["x.y"]',
    );
    assert.match(
      issueAt(issues, "component[0].capabilities.uplink").message,
      /unknown key 'uplink'/,
    );
    assert.match(
      issueAt(issues, "component[0].capabilities.ipc_publish").message,
      /unknown key/,
    );
  },
});

Deno.test({
  name: "`parseManifest()` refuses fs entries that escape or are relative",
  permissions: "none",
  fn() {
    const issues = bad(
      ...PKG,
      "[capabilities]",
      'fs_read = ["cwd://../etc", "relative/dir", "home://a/../../b", "/srv/../etc", "cwd://ok", "/srv/data", "home://", "*"]',
      'fs_write = ["**"]',
    );
    for (const i of [0, 1, 2, 3]) {
      assert.match(
        issueAt(issues, `capabilities.fs_read[${i}]`).message,
        /without '\.\.' components/,
      );
    }
    assert.ok(!issues.some((x) => /fs_read\[[4-7]\]/.test(x.key)));
    issueAt(issues, "capabilities.fs_write[0]");
  },
});

Deno.test({
  name:
    "`parseManifest()` refuses net entries with a scheme, path or bad port, and accepts an explicit port",
  permissions: "none",
  fn() {
    const issues = bad(
      ...PKG,
      "[capabilities]",
      'net = ["https://api.example.com", "api.example.com:0", "example.com/path", "*.example.com", "", "a.com:65536", "api.example.com", "10.0.0.1", "::1", "*", "api.example.com:8443", "[::1]:8080", "127.0.0.1:11434"]',
    );
    for (const i of [0, 1, 2, 3, 4, 5]) {
      issueAt(issues, `capabilities.net[${i}]`);
    }
    assert.ok(!issues.some((x) => /net\[([6-9]|1\d)\]/.test(x.key)));
  },
});

Deno.test({
  name:
    "`parseManifest()` validates ACL topic patterns, identity values, commands and flags",
  permissions: "none",
  fn() {
    const issues = bad(
      ...PKG,
      "[capabilities]",
      'ipc_publish = ["a..b", ".a", "ok.v1.*", "a.b.c.d.e.f.g.h.i", "a.b$"]',
      'ipc_subscribe = ["", "astrid.v1.*.x"]',
      'identity = ["resolve", "root"]',
      'host_process = [" ls", "git\\nrm"]',
      'uplink = "yes"',
      "allow_prompt_injection = 1",
    );
    for (const k of [0, 1, 3, 4]) {
      issueAt(issues, `capabilities.ipc_publish[${k}]`);
    }
    assert.match(
      issueAt(issues, "capabilities.ipc_publish[0]").message,
      /no empty segments/,
    );
    issueAt(issues, "capabilities.ipc_subscribe[0]");
    assert.ok(!issues.some((x) => x.key === "capabilities.ipc_subscribe[1]"));
    assert.match(
      issueAt(issues, "capabilities.identity[1]").message,
      /'resolve', 'link' or 'admin'/,
    );
    issueAt(issues, "capabilities.host_process[0]");
    issueAt(issues, "capabilities.host_process[1]");
    assert.match(
      issueAt(issues, "capabilities.uplink").message,
      /expected a boolean, got a string/,
    );
    issueAt(issues, "capabilities.allow_prompt_injection");
  },
});
