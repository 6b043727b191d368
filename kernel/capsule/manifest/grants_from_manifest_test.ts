import assert from "node:assert/strict";
import type { CapsuleId, PrincipalId, SessionId } from "../../core/ids.ts";
import { checkManifestGrant } from "../../security/manifest_grant.ts";
import { ok, PKG } from "./_manifest_fixture_test.ts";
import {
  grantsFromManifest,
  ipcAclFromManifest,
} from "./grants_from_manifest.ts";

const MANIFEST = [
  ...PKG,
  "[capabilities]",
  'fs_read = ["cwd://src"]',
  'fs_write = ["cwd://out"]',
  'net = ["api.example.com"]',
  'host_process = ["deno run --no-prompt"]',
  'net_bind = ["unix"]',
  'ipc_publish = ["demo.v1.*"]',
  'ipc_subscribe = ["astrid.v1.request.*"]',
  "[env.API_KEY]",
  'type = "secret"',
  "[env.MODEL]",
  'type = "string"',
  "[[mcp_server]]",
  'id = "memory"',
  'command = "deno"',
  'args = ["run", "--no-prompt", "mem.ts"]',
];

Deno.test({
  name:
    "`grantsFromManifest()` maps capabilities, MCP servers, env names and secrets",
  permissions: "none",
  fn() {
    const grants = grantsFromManifest(ok(...MANIFEST));
    assert.deepEqual(structuredClone(grants), {
      fs_read: ["cwd://src"],
      fs_write: ["cwd://out"],
      net: ["api.example.com"],
      host_process: ["deno run --no-prompt"],
      net_bind: true,
      mcp_servers: ["memory"],
      env: ["MODEL"],
      secrets: ["API_KEY"],
      other: [],
    });
    assert.ok(Object.isFrozen(grants) && Object.isFrozen(grants.net));
  },
});

Deno.test({
  name:
    "`grantsFromManifest()` grants nothing for an empty manifest and net_bind only for a non-empty entry",
  permissions: "none",
  fn() {
    const none = grantsFromManifest(ok(...PKG));
    assert.equal(none.net_bind, false);
    assert.deepEqual([...none.fs_read, ...none.net, ...none.secrets], []);
    const empty = grantsFromManifest(
      ok(...PKG, "[capabilities]", 'net_bind = [""]'),
    );
    assert.equal(empty.net_bind, false);
  },
});

Deno.test({
  name:
    "`grantsFromManifest()` output drives the gate's layer 0 (granted host allowed, other denied)",
  permissions: "none",
  fn() {
    const grants = grantsFromManifest(ok(...MANIFEST));
    const ctx = {
      principal: "default" as PrincipalId,
      session: "00000000-0000-4000-8000-000000000001" as SessionId,
      capsule: "demo" as CapsuleId,
      workspace: "/ws",
      callId: "c1",
    };
    const http = (url: string) =>
      checkManifestGrant(
        {
          type: "capsule_http_request",
          capsule_id: "demo",
          url,
          method: "GET",
        },
        ctx,
        grants,
      ).ok;
    assert.ok(http("https://api.example.com/v1"));
    assert.ok(!http("https://evil.example.org/"));
    const secret = checkManifestGrant(
      {
        type: "secret_use",
        capsule_id: "demo",
        name: "API_KEY",
        host: "api.example.com",
      },
      ctx,
      grants,
    );
    assert.ok(secret.ok);
  },
});

Deno.test({
  name: "`ipcAclFromManifest()` exposes the publish and subscribe patterns",
  permissions: "none",
  fn() {
    assert.deepEqual(structuredClone(ipcAclFromManifest(ok(...MANIFEST))), {
      publish: ["demo.v1.*"],
      subscribe: ["astrid.v1.request.*"],
    });
    assert.deepEqual(structuredClone(ipcAclFromManifest(ok(...PKG))), {
      publish: [],
      subscribe: [],
    });
  },
});
