/**
 * The gate judges a capsule by the grants of the session it runs in: each
 * session's runtime registers its own copy's grants, so a session that
 * unloads (or fails to load) a capsule never changes what another session's
 * copy may do, and a workspace capsule of one session never lends its grants
 * to a same-named capsule of another.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import type { CapsuleId, SessionId } from "../kernel/core/ids.ts";
import type { Action } from "../kernel/security/action.ts";
import { NO_GRANTS } from "../kernel/security/manifest_grant.ts";
import type { GateContext } from "../kernel/security/context.ts";
import { startTestKernel } from "./test_kernel_test.ts";

const A = "00000000-0000-4000-8000-00000000000a" as SessionId;
const B = "00000000-0000-4000-8000-00000000000b" as SessionId;
const capsule = "notes" as CapsuleId;

Deno.test({
  name:
    "session grants: a capsule unloaded in one session keeps its grants in another, and same-named capsules of two sessions are judged by their own grants",
  permissions: { read: true, write: true, env: true },
  async fn() {
    const { root, workspace, kernel } = await startTestKernel({
      prefix: "astrid-session-grants-",
    });
    try {
      const { gate, setGrants } = kernel.security;
      const read = (p: string): Action => ({
        type: "capsule_file_access",
        capsule_id: capsule,
        path: path.join(workspace, p),
        mode: "read",
      });
      let n = 0;
      const ctx = (session: SessionId): GateContext => ({
        principal: kernel.principal,
        session,
        capsule,
        workspace,
        callId: `c${n++}`,
      });
      const allowed = async (session: SessionId, p: string) => {
        const d = await gate.decide(read(p), ctx(session));
        if (d.allowed) d.budget.commit();
        return d.allowed;
      };
      setGrants(capsule, { ...NO_GRANTS, fs_read: ["cwd://docs"] }, A);
      setGrants(capsule, { ...NO_GRANTS, fs_read: ["cwd://"] }, B);
      // Each session's copy is judged by its own grants.
      assert.equal(await allowed(A, "docs/a.md"), true);
      assert.equal(await allowed(A, "secret.md"), false);
      assert.equal(await allowed(B, "secret.md"), true);
      // Session B unloads its copy: A's copy keeps its grants.
      setGrants(capsule, undefined, B);
      assert.equal(await allowed(B, "secret.md"), false);
      assert.equal(await allowed(A, "docs/a.md"), true);
      // A session that never loaded the capsule gets nothing.
      const C = "00000000-0000-4000-8000-00000000000c" as SessionId;
      assert.equal(await allowed(C, "docs/a.md"), false);
      await gate.flush();
    } finally {
      await kernel.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});
