/**
 * End-to-end: `astrid audit verify --file <export> --key <public key>` as a
 * real subprocess, with no daemon and a home that does not exist: exit 0
 * for an intact export, non-zero naming the first bad entry after one line
 * is edited. The export comes from the real API of a real kernel.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import type { CapsuleId } from "../kernel/core/ids.ts";
import { startApiFixture } from "../kernel/api/_api_fixture_test.ts";
import { runAstrid } from "./cli_fixture_test.ts";

Deno.test("astrid audit verify --file --key verifies an export offline: exit 0, then 1 naming the edited entry", async () => {
  await using f = await startApiFixture({ prefix: "cli-audit-offline-" });
  const kernel = f.tk.kernel;
  for (const path of ["/ws/a", "/ws/b", "/ws/c"]) {
    await kernel.security.audit.append({
      principal: kernel.principal,
      session: null,
      capsule: "fs" as CapsuleId,
      call_id: null,
      action: { type: "file_read", path },
      decision: "allowed",
      proof: { type: "policy" },
      outcome: null,
    });
  }
  const file = path.join(f.tk.root, "export.jsonl");
  await Deno.writeTextFile(
    file,
    await (await f.client.raw("auditExport")).text(),
  );
  const key = kernel.runtimeKey.publicKey.toBase64();
  const env = {
    HOME: f.tk.root,
    ASTRID_HOME: path.join(f.tk.root, "no-such-home"),
  };
  const ok = await runAstrid(
    ["audit", "verify", "--file", file, "--key", key],
    {
      env,
    },
  );
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /audit export verifies/);

  const lines = (await Deno.readTextFile(file)).split("\n");
  const victim = JSON.parse(lines[1]!);
  victim.action.path = "/ws/elsewhere";
  lines[1] = JSON.stringify(victim);
  await Deno.writeTextFile(file, lines.join("\n"));
  const bad = await runAstrid(
    ["audit", "verify", "--file", file, "--key", key],
    { env },
  );
  assert.equal(bad.code, 1);
  assert.ok(bad.stderr.includes(victim.id), bad.stderr);
  assert.match(bad.stderr, /line 2.*HASH_MISMATCH/);

  const help = await runAstrid(["audit", "verify", "--help"], { env });
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--file <export\.jsonl> --key/);
});
