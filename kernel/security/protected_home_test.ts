import assert from "node:assert/strict";
import { ProtectedHome } from "./protected_home.ts";
import { SecurityPolicy } from "./policy.ts";

const ROOT = "/srv/astrid";
const REAL = "/data/astrid";
const home = new ProtectedHome({ roots: [ROOT, `${REAL}/`] });

Deno.test({
  name:
    "`ProtectedHome.check()` denies every kernel dir under both spellings and allows only the caller's home:// area",
  permissions: "none",
  fn() {
    const denied = [
      "keys",
      "keys/runtime.key",
      "var/state.kv",
      "var/mcp/s/x",
      "run/system.token",
      "etc/config.toml",
      "log/daemon.log",
      "bin/x",
      "home",
      "home/ada/.local",
      "home/ada/.local/capsules/x/meta.json",
      "home/ada/.local/overlay/s/upper/a",
      "home/ada/.local/kv",
      "home/ada/.local/audit",
      "home/ada/.local/tokens",
      "home/ada/.local/tmpx",
      "home/ada/.config/env/x.env.json",
      "home/bob/notes.md",
      "",
    ];
    for (const root of [ROOT, REAL]) {
      for (const rel of denied) {
        const p = rel === "" ? root : `${root}/${rel}`;
        assert.notEqual(home.check(p, { principal: "ada" }), null, p);
      }
      for (
        const rel of [
          "home/ada",
          "home/ada/notes.md",
          "home/ada/.local/tmp",
          "home/ada/.local/tmp/x",
          "home/ada/wit/x.wit",
        ]
      ) {
        const p = `${root}/${rel}`;
        assert.equal(home.check(p, { principal: "ada" }), null, p);
      }
    }
    // Outside the home, and siblings sharing a prefix.
    for (const p of ["/srv/astrid-other/keys", "/srv/x", "/data", "/"]) {
      assert.equal(home.check(p), null, p);
    }
  },
});

Deno.test({
  name:
    "`ProtectedHome.check()` denies writing or deleting an ancestor of the home, but not reading it",
  permissions: "none",
  fn() {
    for (const p of ["/", "/srv", "/data"]) {
      assert.notEqual(home.check(p, { destructive: true }), null, p);
      assert.equal(home.check(p), null, p);
    }
  },
});

Deno.test({
  name:
    "`ProtectedHome.checkCommand()` denies a program or an absolute path argument in the home, also as --opt=value",
  permissions: "none",
  fn() {
    assert.notEqual(
      home.checkCommand("cat", [`${ROOT}/keys/runtime.key`]),
      null,
    );
    assert.notEqual(
      home.checkCommand("cat", [`${ROOT}//keys/./runtime.key`]),
      null,
    );
    assert.notEqual(
      home.checkCommand("tar", [`--file=${REAL}/var/state.kv`]),
      null,
    );
    assert.notEqual(home.checkCommand(`${ROOT}/bin/tool`, []), null);
    // `..` is resolved lexically before the check: a detour through another
    // directory still names the home.
    assert.notEqual(
      home.checkCommand("cat", [`/ws/../${ROOT.slice(1)}/keys/runtime.key`]),
      null,
    );
    assert.notEqual(
      home.checkCommand("tar", [`--file=${ROOT}/x/../var/state.kv`]),
      null,
    );
    // …also when the detour starts in the caller's own reachable home area.
    assert.notEqual(
      home.checkCommand("cat", [
        `${ROOT}/home/ada/notes/../../../keys/runtime.key`,
      ]),
      null,
    );
    assert.equal(home.checkCommand("cat", ["keys/runtime.key", "/ws/a"]), null);
  },
});

Deno.test({
  name:
    "`SecurityPolicy.check()` blocks file, process, commit and MCP permission actions in ASTRID_HOME with rule protected_home",
  permissions: "none",
  fn() {
    const policy = new SecurityPolicy({ protectedHome: [ROOT] });
    const blocked = [
      { type: "file_read", path: `${ROOT}/keys/runtime.key` },
      { type: "file_write", path: `${ROOT}/home/ada/.local/capsules/e/x` },
      { type: "file_delete", path: "/srv" },
      {
        type: "capsule_file_access",
        capsule_id: "c",
        path: `${ROOT}/var/state.kv/`,
        mode: "read",
      },
      {
        type: "capsule_process_spawn",
        capsule_id: "c",
        command: "cat",
        args: [`${ROOT}/keys/runtime.key`],
      },
      { type: "overlay_commit", session_id: "s", paths: [`${ROOT}/etc/x`] },
      {
        type: "mcp_permission_check",
        server: "s",
        permission: "read",
        value: `${ROOT}/keys/runtime.key`,
      },
      {
        type: "mcp_permission_check",
        server: "s",
        permission: "import",
        value: `file://${ROOT}/home/ada/.local/capsules/x/a.ts`,
      },
      {
        type: "mcp_permission_check",
        server: "s",
        permission: "run",
        value: `${ROOT}/bin/x`,
      },
    ] as const;
    for (const action of blocked) {
      const d = policy.check(action, { principal: "ada" });
      assert.equal(d.result, "blocked", JSON.stringify(action));
      assert.equal(d.result === "blocked" && d.rule, "protected_home");
    }
    assert.notEqual(
      policy.check({ type: "file_read", path: `${ROOT}/home/ada/notes.md` }, {
        principal: "ada",
      }).result,
      "blocked",
    );
    assert.equal(
      policy.check({ type: "file_read", path: `${ROOT}/home/bob/notes.md` }, {
        principal: "ada",
      }).result,
      "blocked",
    );
  },
});

Deno.test({
  name:
    "`ProtectedHome.checkRoot()` refuses a wholesale root in, above, or containing a principal's .local/.config, and allows narrower ones",
  permissions: "none",
  fn() {
    for (
      const p of [
        "/",
        "/srv",
        ROOT,
        `${ROOT}/keys`,
        `${ROOT}/home`,
        `${ROOT}/home/ada`,
        `${ROOT}/home/ada/.local`,
        `${REAL}/home/ada`,
      ]
    ) {
      assert.notEqual(home.checkRoot(p, { principal: "ada" }), null, p);
    }
    for (
      const p of [
        "/ws",
        `${ROOT}/home/ada/notes`,
        `${ROOT}/home/ada/.local/tmp`,
        "/srv/other",
      ]
    ) {
      assert.equal(home.checkRoot(p, { principal: "ada" }), null, p);
    }
  },
});
