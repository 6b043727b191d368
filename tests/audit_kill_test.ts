/**
 * Crash safety of the audit chain under load, with a real subprocess: a
 * kernel running many gated effects (each appends a line to a file) on a
 * file-backed store is killed with SIGKILL mid-run. After restart, every
 * effect that happened has its durable `allowed` decision entry (no effect
 * without its decision: the decision's group commit resolves before the
 * effect runs), the chain verifies, and a restarted gate appends to it.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { PrincipalId } from "../kernel/core/ids.ts";
import { verifyExportLines } from "../kernel/audit/standalone_verify.ts";
import { publicKeyToBase64 } from "../kernel/crypto/key_id.ts";
import type { Action } from "../kernel/security/action.ts";
import { makeGate } from "../kernel/security/_gate_fixture_test.ts";

const HELPER = fileURLToPath(
  new URL("./fixtures/audit_kill_load.ts", import.meta.url),
);
/** Effects seen before the kill; more land while the signal travels. */
const KILL_AFTER = 300;
const PRINCIPAL = "default" as PrincipalId;

Deno.test({
  name:
    "`Gate.run()` killed with SIGKILL under load: no effect without its durable decision entry, and the chain verifies after restart",
  permissions: { read: true, write: true, env: true, run: [Deno.execPath()] },
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "astrid-audit-kill-" });
    try {
      const kvPath = `${dir}/kernel.kv`;
      const effectFile = `${dir}/effects.log`;
      await Deno.writeTextFile(effectFile, "");
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-R",
          "-W",
          "-E",
          "--no-lock",
          HELPER,
          kvPath,
          effectFile,
        ],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const reader = child.stdout.pipeThrough(new TextDecoderStream())
        .getReader();
      let seen = 0;
      let buffer = "";
      while (seen < KILL_AFTER) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        const parts = buffer.split("\n");
        buffer = parts.pop()!;
        seen += parts.filter((l) => l.startsWith("E ")).length;
      }
      child.kill("SIGKILL");
      await reader.cancel();
      const stderr = await new Response(child.stderr).text();
      const status = await child.status;
      assert.equal(status.signal, "SIGKILL", `killed mid-run: ${stderr}`);

      // A partial last line (the kill landed mid-write) names no whole call.
      const text = await Deno.readTextFile(effectFile);
      const effects = text.split("\n").slice(0, -1);
      assert.ok(effects.length >= KILL_AFTER, `${effects.length} effects`);

      // Restart: a fresh kernel on the same file store.
      const f = await makeGate({
        kvPath,
        mode: { mode: "autonomous" },
        policy: { requireApprovalForNetwork: false },
      });
      try {
        const entries = await f.audit.query({
          principal: PRINCIPAL,
          limit: 1_000_000,
        });
        const decided = new Set(
          entries.filter((e) => e.decision === "allowed").map((e) => e.call_id),
        );
        const missing = effects.filter((id) => !decided.has(id));
        assert.deepEqual(missing, [], "every effect has its decision entry");
        const batched = entries.filter((e) => e.signature === null).length;
        assert.ok(batched > 0, "entries shared group commits under load");
        const verified = await f.audit.verify(PRINCIPAL);
        assert.deepEqual(verified, {
          valid: true,
          entriesVerified: entries.length,
        });
        const lines: string[] = [];
        for await (const l of f.audit.exportJsonl(PRINCIPAL)) lines.push(l);
        const keys = f.audit.trustedPublicKeys().map(publicKeyToBase64);
        assert.deepEqual(verifyExportLines(lines, keys), {
          valid: true,
          entriesVerified: entries.length,
        }, "a third party verifies the export with the public key alone");
        const http: Action = {
          type: "capsule_http_request",
          capsule_id: "fs",
          url: "https://api.example.com/v1",
          method: "GET",
        };
        await f.gate.run(http, f.ctx({ callId: "after-restart" }), {
          effect: () => Promise.resolve(),
        });
        await f.gate.flush();
        assert.deepEqual(await f.audit.verify(PRINCIPAL), {
          valid: true,
          entriesVerified: entries.length + 2,
        });
      } finally {
        await f.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
