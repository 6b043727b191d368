import assert from "node:assert/strict";
import * as path from "node:path";
import { publicKeyToBase64 } from "../kernel/crypto/key_id.ts";
import { AuditLog } from "../kernel/audit/mod.ts";
import type { PrincipalId } from "../kernel/core/ids.ts";
import { generateKeyPair } from "../kernel/crypto/key_pair.ts";
import { openKv } from "../kernel/host/open_kv.ts";
import { KvStore } from "../kernel/store/kv_store.ts";
import { FakeClock, SeededRandom } from "../kernel/testing/mod.ts";

const SCRIPT = path.join(import.meta.dirname ?? ".", "verify_audit.ts");

async function run(args: string[]): Promise<{ code: number; out: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", SCRIPT, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  return { code: out.code, out: text };
}

Deno.test({
  name:
    "`tools/verify_audit.ts` exits 0 for an intact export, 1 for a cut-off or tampered one, 2 on bad usage",
  permissions: { read: true, write: true, run: true },
  async fn() {
    await using store = new KvStore(await openKv(":memory:"));
    const random = new SeededRandom(1);
    const keyPair = generateKeyPair(random);
    const log = new AuditLog({
      store,
      clock: new FakeClock(0),
      random,
      keyPair,
    });
    const alice = "alice" as PrincipalId;
    for (let i = 0; i < 3; i++) {
      await log.append({
        principal: alice,
        session: null,
        capsule: null,
        call_id: `call-${i}`,
        action: { type: "file_read", path: "/ws/a" },
        decision: "allowed",
        proof: { type: "policy" },
        outcome: null,
      });
    }
    const lines: string[] = [];
    for await (const l of log.exportJsonl(alice)) lines.push(l);
    const dir = await Deno.makeTempDir({ prefix: "astrid_audit_cli_" });
    try {
      const file = path.join(dir, "export.jsonl");
      const key = publicKeyToBase64(keyPair.publicKey);
      await Deno.writeTextFile(file, lines.join("\n") + "\n");
      const good = await run([file, key]);
      assert.equal(good.code, 0, good.out);
      assert.deepEqual(JSON.parse(good.out), {
        valid: true,
        entriesVerified: 3,
      });
      const head = (await log.head(alice))!;
      await Deno.writeTextFile(file, lines.slice(0, 2).join("\n"));
      const cut = await run([file, key, "--head", `${head.seq}:${head.hash}`]);
      assert.equal(cut.code, 1, cut.out);
      assert.equal(JSON.parse(cut.out).firstBad.code, "TRUNCATED");
      lines[1] = lines[1]!.replace('"call_id":"call-1"', '"call_id":"call-9"');
      await Deno.writeTextFile(file, lines.join("\n"));
      const bad = await run([file, key]);
      assert.equal(bad.code, 1, bad.out);
      assert.equal(JSON.parse(bad.out).firstBad.line, 2);
      assert.equal(JSON.parse(bad.out).firstBad.code, "HASH_MISMATCH");
      assert.equal((await run([file])).code, 2);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
