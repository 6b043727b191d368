import assert from "node:assert/strict";
import { describeGrants } from "./describe_grants.ts";
import { NO_GRANTS } from "./manifest_grant.ts";

Deno.test("describeGrants(): every kind of access gets one sentence, in words", () => {
  assert.deepEqual(
    describeGrants({
      fs_read: ["*", "home://notes"],
      fs_write: ["cwd://out"],
      net: ["*", "api.example.com:8443"],
      net_bind: true,
      host_process: ["git status"],
      mcp_servers: ["*"],
      env: ["LEVEL"],
      secrets: ["API_KEY"],
      other: ["approval_request", "capsule_execution"],
    }),
    [
      "read files: the whole workspace, home notes",
      "write files: workspace out",
      "connect to: any host, api.example.com:8443",
      "accept network connections",
      "run commands: git status",
      "run MCP servers: any of its own",
      "read settings: LEVEL",
      "use secrets in requests to its hosts: API_KEY",
      "ask the user for approvals",
      "other actions: capsule_execution",
    ],
  );
});

Deno.test("describeGrants(): no grants, or malformed record grants, read as nothing", () => {
  const nothing = ["nothing (no access beyond its own state)"];
  assert.deepEqual(describeGrants(NO_GRANTS), nothing);
  assert.deepEqual(describeGrants({ fs_read: "x", net: [1, null] }), nothing);
});
