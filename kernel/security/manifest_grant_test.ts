import assert from "node:assert/strict";
import type { CapsuleId, PrincipalId, SessionId } from "../core/ids.ts";
import type { Action } from "./action.ts";
import type { GateContext } from "./context.ts";
import {
  type CapsuleGrants,
  checkManifestGrant,
  NO_GRANTS,
} from "./manifest_grant.ts";

const ctx: GateContext = {
  principal: "default" as PrincipalId,
  session: "00000000-0000-4000-8000-000000000001" as SessionId,
  capsule: "fs" as CapsuleId,
  workspace: "/ws",
  callId: "c1",
};
const grants: CapsuleGrants = {
  ...NO_GRANTS,
  fs_read: ["*", "home://notes"],
  fs_write: ["cwd://out"],
  net: ["api.example.com"],
  host_process: ["git status", "ls"],
  mcp_servers: ["memory"],
  env: ["HOME"],
  secrets: ["API_KEY"],
};
function ok(action: Action, g: CapsuleGrants = grants): boolean {
  return checkManifestGrant(action, ctx, g, { principalHome: "/h/default" }).ok;
}

Deno.test({
  name:
    "`checkManifestGrant()` covers reads under `*` and `home://` and refuses everything else",
  permissions: "none",
  fn() {
    assert.ok(
      ok({
        type: "capsule_file_access",
        capsule_id: "fs",
        path: "/ws/src/a.ts",
        mode: "read",
      }),
    );
    assert.ok(
      ok({
        type: "capsule_file_access",
        capsule_id: "fs",
        path: "/h/default/notes/x",
        mode: "read",
      }),
    );
    assert.ok(
      !ok({
        type: "capsule_file_access",
        capsule_id: "fs",
        path: "/h/default/secrets",
        mode: "read",
      }),
    );
    assert.ok(
      !ok({
        type: "capsule_file_access",
        capsule_id: "fs",
        path: "/etc/passwd",
        mode: "read",
      }),
    );
    assert.ok(
      !ok({
        type: "capsule_file_access",
        capsule_id: "fs",
        path: "/ws/../etc/passwd",
        mode: "read",
      }),
    );
    assert.ok(
      !ok({
        type: "capsule_file_access",
        capsule_id: "fs",
        path: "/ws-evil/a",
        mode: "read",
      }),
    );
    assert.ok(
      !ok({
        type: "capsule_file_access",
        capsule_id: "fs",
        path: "ws/a",
        mode: "read",
      }),
    );
  },
});

Deno.test({
  name:
    "`checkManifestGrant()` limits writes and deletes to fs_write (`cwd://out` only)",
  permissions: "none",
  fn() {
    assert.ok(
      ok({
        type: "capsule_file_access",
        capsule_id: "fs",
        path: "/ws/out/r.txt",
        mode: "write",
      }),
    );
    assert.ok(
      !ok({
        type: "capsule_file_access",
        capsule_id: "fs",
        path: "/ws/src/a.ts",
        mode: "write",
      }),
    );
    assert.ok(
      !ok({
        type: "capsule_file_access",
        capsule_id: "fs",
        path: "/ws/src/a.ts",
        mode: "delete",
      }),
    );
  },
});

Deno.test({
  name:
    "`checkManifestGrant()` matches net hosts exactly or as subdomains, never by suffix tricks",
  permissions: "none",
  fn() {
    const http = (url: string): Action => ({
      type: "capsule_http_request",
      capsule_id: "fs",
      url,
      method: "GET",
    });
    assert.ok(ok(http("https://api.example.com/v1")));
    assert.ok(ok(http("https://eu.api.example.com/v1")));
    assert.ok(!ok(http("https://evilapi.example.com/")));
    assert.ok(!ok(http("https://api.example.com.evil.net/")));
    assert.ok(!ok(http("https://api.example.com@127.0.0.1/")));
    assert.ok(!ok(http("not a url")));
  },
});

Deno.test({
  name:
    "`checkManifestGrant()` covers a command that equals an entry or extends it after a space",
  permissions: "none",
  fn() {
    const run = (command: string, args: string[]): Action => ({
      type: "capsule_process_spawn",
      capsule_id: "fs",
      command,
      args,
    });
    assert.ok(ok(run("git", ["status"])));
    assert.ok(ok(run("git", ["status", "--short"])));
    assert.ok(ok(run("ls", ["-la"])));
    assert.ok(!ok(run("git", ["push"])));
    assert.ok(!ok(run("lsblk", [])));
  },
});

Deno.test({
  name:
    "`checkManifestGrant()` never grants run/ffi/sys permission checks of MCP subprocesses",
  permissions: "none",
  fn() {
    const check = (
      permission: "run" | "ffi" | "sys" | "env" | "read",
      value: string | null,
    ): Action => ({
      type: "mcp_permission_check",
      server: "memory",
      permission,
      value,
    });
    assert.ok(
      !ok(check("run", "bash"), { ...grants, other: ["mcp_permission_check"] }),
    );
    assert.ok(!ok(check("ffi", null)));
    assert.ok(!ok(check("sys", "hostname")));
    assert.ok(ok(check("env", "HOME")));
    assert.ok(!ok(check("env", "AWS_SECRET_ACCESS_KEY")));
    assert.ok(ok(check("read", "/ws/data.json")));
    assert.ok(!ok(check("read", "/proc/self/environ")));
    assert.ok(!ok(check("read", null)));
  },
});

Deno.test({
  name:
    "`checkManifestGrant()` refuses commits from capsules and lets the kernel's own actions through",
  permissions: "none",
  fn() {
    const commit: Action = {
      type: "overlay_commit",
      session_id: ctx.session,
      paths: ["/ws/a"],
    };
    assert.ok(!ok(commit));
    const { capsule: _c, ...kernelCtx } = ctx;
    assert.ok(checkManifestGrant(commit, kernelCtx, NO_GRANTS).ok);
  },
});

Deno.test({
  name:
    "`checkManifestGrant()` denies everything for a capsule with an empty manifest",
  permissions: "none",
  fn() {
    const actions: Action[] = [
      {
        type: "capsule_file_access",
        capsule_id: "fs",
        path: "/ws/a",
        mode: "read",
      },
      {
        type: "capsule_http_request",
        capsule_id: "fs",
        url: "https://api.example.com",
        method: "GET",
      },
      {
        type: "capsule_process_spawn",
        capsule_id: "fs",
        command: "ls",
        args: [],
      },
      { type: "capsule_net_bind", capsule_id: "fs" },
      { type: "mcp_tool_call", server: "memory", tool: "read_graph" },
      {
        type: "secret_use",
        capsule_id: "fs",
        name: "API_KEY",
        host: "api.example.com",
      },
      { type: "capsule_execution", capsule_id: "fs", capability: "x" },
    ];
    for (const a of actions) assert.ok(!ok(a, NO_GRANTS), a.type);
  },
});

Deno.test({
  name:
    "`checkManifestGrant()` judges a remote import reported as host:port by the net grants",
  permissions: "none",
  fn() {
    const imp = (value: string): Action => ({
      type: "mcp_permission_check",
      server: "memory",
      permission: "import",
      value,
    });
    assert.ok(ok(imp("api.example.com:443")));
    assert.ok(!ok(imp("evil.example.net:443")));
    assert.ok(ok(imp("/ws/lib/mod.ts")));
    assert.ok(!ok(imp("/etc/passwd")));
  },
});

Deno.test({
  name:
    "`checkManifestGrant()` allows every MCP request only for a server in mcp_servers (or `*`)",
  permissions: "none",
  fn() {
    const requests = (server: string): Action[] => [
      { type: "mcp_tool_call", server, tool: "t", "args_hash": "0".repeat(64) },
      { type: "mcp_resource_read", server, uri: "mem://notes" },
      { type: "mcp_prompt_get", server, name: "p" },
      { type: "mcp_elicitation", server, mode: "form", message: "?" },
      {
        type: "mcp_elicitation",
        server,
        mode: "url",
        message: "?",
        url: "https://api.example.com/",
      },
      { type: "mcp_sampling", server, "max_tokens": 10, "prompt_chars": 1 },
    ];
    for (const a of requests("memory")) assert.ok(ok(a), a.type);
    for (const a of requests("other")) {
      const r = checkManifestGrant(a, ctx, grants);
      assert.equal(r.ok, false, a.type);
      assert.match(!r.ok ? r.reason : "", /MCP server other/);
    }
    const any = { ...grants, "mcp_servers": ["*"] };
    for (const a of requests("other")) assert.ok(ok(a, any), a.type);
    for (const a of requests("memory")) assert.ok(!ok(a, NO_GRANTS), a.type);
  },
});

Deno.test({
  name:
    "`checkManifestGrant()` covers HTTP only on the scheme's default port unless the net entry names the port",
  permissions: "none",
  fn() {
    const http = (url: string, net: string[]) =>
      ok(
        { type: "capsule_http_request", capsule_id: "fs", url, method: "GET" },
        {
          ...grants,
          net,
        },
      );
    // A grant without a port: 443 for https, 80 for http — nothing else.
    assert.equal(http("https://api.example.com/v1", ["api.example.com"]), true);
    assert.equal(
      http("https://api.example.com:443/", ["api.example.com"]),
      true,
    );
    assert.equal(http("http://api.example.com/", ["api.example.com"]), true);
    assert.equal(
      http("https://api.example.com:22/", ["api.example.com"]),
      false,
    );
    assert.equal(
      http("http://api.example.com:8080/", ["api.example.com"]),
      false,
    );
    assert.equal(
      http("https://sub.api.example.com:6379/", ["api.example.com"]),
      false,
    );
    assert.equal(http("https://evil.example.org:443/", ["*"]), true);
    assert.equal(http("https://evil.example.org:22/", ["*"]), false);
    // A grant that names its port covers that port only.
    assert.equal(http("http://127.0.0.1:8080/x", ["127.0.0.1:8080"]), true);
    assert.equal(http("http://127.0.0.1/x", ["127.0.0.1:8080"]), false);
    assert.equal(http("http://127.0.0.1:8081/x", ["127.0.0.1:8080"]), false);
    assert.equal(http("http://[::1]:8080/", ["[::1]:8080"]), true);
    assert.equal(http("http://[::1]:8081/", ["[::1]:8080"]), false);
    assert.equal(http("http://[::1]/", ["::1"]), true);
    // A host grant with a port still names the host for secrets.
    assert.equal(
      ok({
        type: "secret_use",
        capsule_id: "fs",
        name: "API_KEY",
        host: "api.example.com",
      }, { ...grants, net: ["api.example.com:8443"] }),
      true,
    );
  },
});

Deno.test({
  name:
    "`checkManifestGrant()` covers an MCP server's net check only on 80/443 unless the net entry names the port",
  permissions: "none",
  fn() {
    const net = (value: string, entries: string[]) =>
      ok({
        type: "mcp_permission_check",
        server: "memory",
        permission: "net",
        value,
      }, { ...grants, net: entries });
    assert.equal(net("api.example.com:443", ["api.example.com"]), true);
    assert.equal(net("api.example.com:80", ["api.example.com"]), true);
    assert.equal(net("api.example.com:22", ["api.example.com"]), false);
    assert.equal(net("api.example.com:5432", ["api.example.com:5432"]), true);
    assert.equal(net("api.example.com:443", ["api.example.com:5432"]), false);
    assert.equal(net("[::1]:8080", ["[::1]:8080"]), true);
    assert.equal(net("[::1]:8081", ["[::1]:8080"]), false);
    assert.equal(net("evil.example.org:443", ["api.example.com"]), false);
    // A check without a port (name-level, e.g. DNS) needs the host only.
    assert.equal(net("api.example.com", ["api.example.com:5432"]), true);
  },
});
