/**
 * `astrid audit` in process against the real admin API of a real kernel
 * (an in-process ApiClient stands in for the daemon's socket): verify exit
 * codes on an intact and a tampered chain, export → offline verify, list,
 * show, stats, usage errors.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import type { CapsuleId, PrincipalId } from "../kernel/core/ids.ts";
import type { AuditEntry } from "../kernel/audit/audit_entry.ts";
import { editStored, type Fixture } from "../kernel/audit/_fixture_test.ts";
import { startApiFixture } from "../kernel/api/_api_fixture_test.ts";
import type { KernelHandle } from "../kernel/daemon/boot.ts";
import { parseFlags } from "../cli/flags.ts";
import { UsageError } from "../cli/output.ts";
import { auditCommand } from "../cli/commands/audit.ts";
import { capture } from "./cli_capture_test.ts";

async function appendSome(kernel: KernelHandle): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  for (const decision of ["allowed", "denied", "allowed"] as const) {
    out.push(
      await kernel.security.audit.append({
        principal: kernel.principal,
        session: null,
        capsule: "fs" as CapsuleId,
        call_id: null,
        action: { type: "file_write", path: "/ws/a" },
        decision,
        proof: { type: "policy" },
        outcome: null,
      }),
    );
  }
  return out;
}

function run(
  argv: string[],
  connect: () => Promise<import("../kernel/api/client.ts").ApiClient>,
) {
  const { positionals, flags } = parseFlags(argv);
  return capture(() => auditCommand(positionals.slice(1), flags, connect));
}

Deno.test("astrid audit verify exits 0 on an intact chain and 1 naming the first edited entry", async () => {
  await using f = await startApiFixture({ prefix: "cli-audit-verify-" });
  const entries = await appendSome(f.tk.kernel);
  const connect = () => Promise.resolve(f.client);
  const ok = await run(["audit", "verify"], connect);
  assert.equal(ok.result, 0, ok.stderr);
  assert.match(ok.stdout, /ok \(\d+ entries verified\)/);
  const victim = entries[1]!;
  await editStored(
    { store: f.tk.kernel.store } as unknown as Fixture,
    { principal: f.tk.kernel.principal as PrincipalId, seq: victim.seq },
    (b) => {
      b["decision"] = "allowed";
    },
  );
  const bad = await run(["audit", "verify"], connect);
  assert.equal(bad.result, 1);
  assert.match(bad.stderr, /error\[AUDIT_CHAIN_BROKEN\]/);
  assert.ok(bad.stderr.includes(victim.id), bad.stderr);
  assert.match(bad.stderr, /HASH_MISMATCH/);
});

Deno.test("astrid audit export --file writes JSON lines that audit verify --file --key checks offline without a daemon; an edited line fails naming it", async () => {
  await using f = await startApiFixture({ prefix: "cli-audit-export-" });
  await appendSome(f.tk.kernel);
  const file = path.join(f.tk.root, "audit.jsonl");
  const exported = await run(
    ["audit", "export", "--file", file],
    () => Promise.resolve(f.client),
  );
  assert.equal(exported.result, 0, exported.stderr);
  assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
  const key = f.tk.kernel.runtimeKey.publicKey.toBase64();
  const noDaemon = () => Promise.reject(new Error("no daemon may be used"));
  const ok = await run(
    ["audit", "verify", "--file", file, "--key", key],
    noDaemon,
  );
  assert.equal(ok.result, 0, ok.stderr);
  assert.match(ok.stdout, /verifies: \d+ entries/);

  const lines = (await Deno.readTextFile(file)).split("\n");
  const entry = JSON.parse(lines[2]!);
  entry.decision = "denied";
  lines[2] = JSON.stringify(entry);
  await Deno.writeTextFile(file, lines.join("\n"));
  const bad = await run(
    ["audit", "verify", "--file", file, "--key", key],
    noDaemon,
  );
  assert.equal(bad.result, 1);
  assert.match(bad.stderr, /line 3/);
  assert.ok(bad.stderr.includes(entry.id), bad.stderr);
});

Deno.test("astrid audit list, show and stats print the chain through the daemon", async () => {
  await using f = await startApiFixture({ prefix: "cli-audit-list-" });
  const entries = await appendSome(f.tk.kernel);
  const connect = () => Promise.resolve(f.client);
  const listed = await run(
    ["audit", "list", "decision=denied", "capsule=fs", "--limit", "5"],
    connect,
  );
  assert.equal(listed.result, 0, listed.stderr);
  const rows = listed.stdout.split("\n");
  assert.match(rows[0]!, /^TIME\s+SEQ\s+ID\s+DECISION\s+ACTION/);
  assert.equal(rows.length, 2);
  assert.ok(rows[1]!.includes(entries[1]!.id.slice(0, 8)));
  assert.match(rows[1]!, /denied\s+file_write\s+fs/);

  const shown = await run(["audit", "show", entries[0]!.id], connect);
  assert.equal(JSON.parse(shown.stdout).hash, entries[0]!.hash);

  const stats = await run(["audit", "stats", "--json"], connect);
  const s = JSON.parse(stats.stdout);
  assert.ok(s.entries >= 3);
  assert.ok(s.decisions.denied >= 1);
});

Deno.test("astrid audit: a bad filter, --file without --key, or an unknown subcommand is a usage error", async () => {
  const never = () => Promise.reject(new Error("must not connect"));
  for (
    const argv of [
      ["audit", "list", "colour=blue"],
      ["audit", "verify", "--file", "x.jsonl"],
      ["audit", "verify", "--key", "AAAA"],
      ["audit", "frobnicate"],
      ["audit"],
      ["audit", "stats", "extra"],
    ]
  ) {
    await assert.rejects(() => run(argv, never), UsageError, argv.join(" "));
  }
});
