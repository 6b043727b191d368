/**
 * The admin routes over a real Unix socket (`Deno.serve` + the socket
 * transport of ApiClient), where streaming differs from in-process calls:
 * a long export arrives whole, and an install's SSE progress ends in `done`.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import type { CapsuleId } from "../kernel/core/ids.ts";
import { createApi } from "../kernel/api/api.ts";
import { ApiClient } from "../kernel/api/client.ts";
import type { ProgressEvent } from "../kernel/api/contract.ts";
import type {
  AuditStatsBody,
  AuditVerifyBody,
  CapsuleListBody,
} from "../kernel/api/contract_admin.ts";
import type { SessionHub } from "../kernel/api/session_hub.ts";
import { startTestKernel } from "./test_kernel_test.ts";

Deno.test("over a real socket: the export streams every entry, an install streams progress to done, verify answers ok", async () => {
  const tk = await startTestKernel({ prefix: "api-socket-", fileStore: true });
  const k = tk.kernel;
  const sock = path.join(tk.root, "system.sock");
  const router = createApi({
    kernel: k,
    hub: { reload: () => Promise.resolve() } as unknown as SessionHub,
    mode: "socket",
    startedAt: Date.now(),
    idleTimeoutMs: null,
    engines: [],
    shutdown: () => {},
  });
  const server = Deno.serve(
    { path: sock, onListen: () => {} },
    router.handler({ token: () => "t" }),
  );
  const client = new ApiClient({ socket: sock }, "t");
  try {
    for (let i = 0; i < 300; i++) {
      await k.security.audit.append({
        principal: k.principal,
        session: null,
        capsule: "fs" as CapsuleId,
        call_id: null,
        action: { type: "file_read", path: `/ws/${i}` },
        decision: "allowed",
        proof: { type: "policy" },
        outcome: null,
      }, { lazy: i % 30 !== 29 });
    }
    const text = await (await client.raw("auditExport")).text();
    const stats = await client.call<AuditStatsBody>("auditStats");
    assert.ok(stats.entries >= 300);
    assert.equal(
      text.split("\n").filter((l) => l !== "").length,
      stats.entries,
    );

    const src = path.join(tk.root, "src", "notes");
    await Deno.mkdir(src, { recursive: true });
    await Deno.writeTextFile(
      path.join(src, "Capsule.toml"),
      `[package]\nname = "notes"\nversion = "1.0.0"\n`,
    );
    const events: ProgressEvent[] = [];
    for await (
      const e of client.stream<ProgressEvent>("capsulesInstall", {
        body: { source: src },
      })
    ) events.push(e);
    assert.equal(events.at(-1)?.type, "done", JSON.stringify(events));
    const list = await client.call<CapsuleListBody>("capsulesList");
    assert.deepEqual(list.capsules.map((c) => c.name), ["notes"]);
    const verified = await client.call<AuditVerifyBody>("auditVerify");
    assert.equal(verified.ok, true);
  } finally {
    client.close();
    await server.shutdown();
    await k.close();
    await Deno.remove(tk.root, { recursive: true });
  }
});
