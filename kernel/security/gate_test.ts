import assert from "node:assert/strict";
import type { PrincipalId } from "../core/ids.ts";
import type { Action } from "./action.ts";
import { makeGate, OTHER_SESSION, WS } from "./_gate_fixture_test.ts";

const P = { read: true, write: true } as const;
const readIn: Action = {
  type: "capsule_file_access",
  capsule_id: "fs",
  path: `${WS}/src/a.ts`,
  mode: "read",
};
const readOut: Action = {
  type: "capsule_file_access",
  capsule_id: "fs",
  path: "/home/u/notes.txt",
  mode: "read",
};
const writeOut: Action = {
  type: "capsule_file_access",
  capsule_id: "fs",
  path: "/home/u/notes.txt",
  mode: "write",
};
const http: Action = {
  type: "capsule_http_request",
  capsule_id: "fs",
  url: "https://api.example.com/v1",
  method: "GET",
};
const git = (...args: string[]): Action => ({
  type: "capsule_process_spawn",
  capsule_id: "fs",
  command: "git",
  args,
});

Deno.test({
  name:
    "`Gate.decide()` denies an action outside the manifest without asking, and audits it",
  permissions: P,
  async fn() {
    const f = await makeGate({ answers: [{ decision: "allow_once" }] });
    try {
      const d = await f.gate.decide({
        ...http,
        url: "https://evil.example.net/",
      }, f.ctx());
      assert.equal(d.allowed, false);
      assert.ok(
        !d.allowed && d.code === "MANIFEST_DENIED" && d.layer === "manifest" &&
          d.auditId !== null,
      );
      assert.equal(f.handler.asked.length, 0);
      const [entry] = await f.audit.query({
        principal: "default" as PrincipalId,
        decision: "denied",
      });
      assert.equal(entry?.id, d.auditId);
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.decide()` lets policy block an action even with a covering token and in autonomous mode",
  permissions: P,
  async fn() {
    const f = await makeGate({ mode: { mode: "autonomous" } });
    try {
      await f.tokens.mint({
        principal: "default" as PrincipalId,
        resource: "exec://rm",
        permissions: ["execute"],
        ttlMs: 60_000,
        scope: "persistent",
      });
      const rm: Action = {
        type: "capsule_process_spawn",
        capsule_id: "fs",
        command: "rm",
        args: ["-fr", "/"],
      };
      const d = await f.gate.decide(rm, f.ctx());
      assert.ok(
        !d.allowed && d.code === "POLICY_BLOCKED" && d.layer === "policy",
      );
      const sum = await f.gate.decide(
        { ...rm, command: "sum", args: ["x"] },
        f.ctx(),
      );
      assert.equal(
        sum.allowed,
        true,
        "`su` in the blocked list does not block `sum`",
      );
      const su = await f.gate.decide(
        { ...rm, command: "su", args: ["root"] },
        f.ctx(),
      );
      assert.ok(!su.allowed && su.code === "POLICY_BLOCKED");
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.decide()` refuses never_allow paths in every mode as a policy block",
  permissions: P,
  async fn() {
    const f = await makeGate({
      mode: { mode: "yolo" },
      grants: { fs: { fs_read: ["/"] } },
    });
    try {
      const d = await f.gate.decide(
        { ...readIn, path: "/root/.bashrc" },
        f.ctx(),
      );
      assert.ok(
        !d.allowed && d.code === "POLICY_BLOCKED" && d.layer === "mode",
      );
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name: "`Gate.decide()` allows workspace reads in safe mode without asking",
  permissions: P,
  async fn() {
    const f = await makeGate();
    try {
      const d = await f.gate.decide(readIn, f.ctx());
      assert.ok(d.allowed && d.proof.type === "mode");
      assert.equal(f.handler.asked.length, 0);
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.decide()` asks in safe mode for a read outside the workspace; guided allows it, but asks for the write",
  permissions: P,
  async fn() {
    const safe = await makeGate({ answers: [{ decision: "allow_once" }] });
    try {
      const d = await safe.gate.decide(readOut, safe.ctx());
      assert.ok(d.allowed && d.proof.type === "user_approval");
      assert.equal(safe.handler.asked.length, 1);
      assert.equal(
        safe.handler.asked[0]?.summary,
        "Capsule 'fs' wants to read /home/u/notes.txt",
      );
    } finally {
      await safe.close();
    }
    const guided = await makeGate({
      mode: { mode: "guided" },
      answers: [{ decision: "deny", reason: "no" }],
    });
    try {
      assert.equal(
        (await guided.gate.decide(readOut, guided.ctx())).allowed,
        true,
      );
      const w = await guided.gate.decide(writeOut, guided.ctx());
      assert.ok(
        !w.allowed && w.code === "APPROVAL_DENIED" && w.reason === "no",
      );
      assert.equal(guided.handler.asked.length, 1);
    } finally {
      await guided.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.decide()` lets a capability token skip approval and records the token as proof",
  permissions: P,
  async fn() {
    const f = await makeGate({ answers: [{ decision: "deny" }] });
    try {
      const token = await f.tokens.mint({
        principal: "default" as PrincipalId,
        resource: "capsule://fs:http_request/api.example.com",
        permissions: ["invoke"],
        ttlMs: 60_000,
        scope: "persistent",
      });
      const d = await f.gate.decide(http, f.ctx());
      assert.ok(d.allowed);
      assert.deepEqual(d.proof, { type: "capability", token_id: token.id });
      assert.equal(f.handler.asked.length, 0);
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.decide()` checks the token layer before the budget: a token never bypasses the budget, the refusal names it, and a single-use token stays unspent",
  permissions: P,
  async fn() {
    const f = await makeGate({ limits: { perActionMicros: 1_000 } });
    try {
      const token = await f.tokens.mint({
        principal: "default" as PrincipalId,
        resource: "capsule://fs:http_request/api.example.com",
        permissions: ["invoke"],
        ttlMs: 60_000,
        scope: "persistent",
        singleUse: true,
      });
      const d = await f.gate.decide(http, f.ctx(), {
        estimatedCostMicros: 5_000,
      });
      assert.ok(
        !d.allowed && d.code === "BUDGET_EXCEEDED" && d.layer === "budget",
      );
      const entry = await f.audit.get(
        "default" as PrincipalId,
        d.auditId!,
      );
      assert.deepEqual(
        (entry?.proof as { token_id?: string } | undefined)?.token_id,
        token.id,
        "the budget refusal records the token the token layer found first",
      );
      assert.equal(
        (await f.tokens.verify(token)).ok,
        true,
        "the token was not consumed by a refused call",
      );
      const ok = await f.gate.decide(http, f.ctx(), {
        estimatedCostMicros: 500,
      });
      assert.ok(ok.allowed && ok.proof.type === "capability");
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.decide()` consumes a single-use token once; a replay falls through to approval",
  permissions: P,
  async fn() {
    const f = await makeGate({
      answers: [{ decision: "deny", reason: "replay" }],
    });
    try {
      await f.tokens.mint({
        principal: "default" as PrincipalId,
        resource: "capsule://fs:http_request/api.example.com",
        permissions: ["invoke"],
        ttlMs: 60_000,
        scope: "persistent",
        singleUse: true,
      });
      const results = await Promise.all(
        Array.from({ length: 20 }, () => f.gate.decide(http, f.ctx())),
      );
      const byToken = results.filter((r) =>
        r.allowed && r.proof.type === "capability"
      );
      assert.equal(
        byToken.length,
        1,
        "exactly one concurrent call spends the single-use token",
      );
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name: "`Gate.decide()` ignores expired and revoked tokens and asks instead",
  permissions: P,
  async fn() {
    const f = await makeGate({
      answers: [{ decision: "deny" }, { decision: "deny" }],
    });
    try {
      const t = await f.tokens.mint({
        principal: "default" as PrincipalId,
        resource: "capsule://fs:http_request/api.example.com",
        permissions: ["invoke"],
        ttlMs: 1_000,
        scope: "persistent",
      });
      await f.clock.advance(2_000);
      assert.ok(!(await f.gate.decide(http, f.ctx())).allowed);
      const t2 = await f.tokens.mint({
        principal: "default" as PrincipalId,
        resource: "capsule://fs:http_request/api.example.com",
        permissions: ["invoke"],
        ttlMs: 60_000,
        scope: "persistent",
      });
      await f.tokens.revoke(t2.id, "test");
      assert.ok(!(await f.gate.decide(http, f.ctx())).allowed);
      assert.equal(f.handler.asked.length, 2);
      assert.notEqual(t.id, t2.id);
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.decide()` with Allow Session creates an allowance used by the next identical call only",
  permissions: P,
  async fn() {
    const f = await makeGate({
      answers: [{ decision: "allow_session" }, { decision: "deny" }, {
        decision: "deny",
      }],
    });
    try {
      const first = await f.gate.decide(git("status"), f.ctx());
      assert.ok(
        first.allowed && first.proof.type === "user_approval" &&
          first.proof.allowance_id,
      );
      const second = await f.gate.decide(git("status"), f.ctx());
      assert.ok(second.allowed && second.proof.type === "allowance");
      const other = await f.gate.decide(git("push"), f.ctx());
      assert.ok(!other.allowed, "the allowance keeps the arguments");
      const elsewhere = await f.gate.decide(
        git("status"),
        f.ctx({ session: OTHER_SESSION }),
      );
      assert.ok(
        !elsewhere.allowed,
        "a session allowance does not leak to another session",
      );
      assert.equal(f.handler.asked.length, 3);
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.decide()` does not let an allowance pattern be bypassed with shell metacharacters",
  permissions: P,
  async fn() {
    const f = await makeGate({
      answers: [{ decision: "allow_session" }, { decision: "deny" }, {
        decision: "deny",
      }, { decision: "deny" }],
    });
    try {
      assert.ok((await f.gate.decide(git("status"), f.ctx())).allowed);
      for (
        const args of [["status;", "rm", "-rf", "~"], [
          "status",
          "&&",
          "curl",
          "x",
        ], ["status", "$(id)"]]
      ) {
        const d = await f.gate.decide(git(...args), f.ctx());
        assert.ok(!d.allowed || d.proof.type !== "allowance", args.join(" "));
      }
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.decide()` with Allow Workspace covers another session in the same workspace, not another workspace",
  permissions: P,
  async fn() {
    const f = await makeGate({
      answers: [{ decision: "allow_workspace" }, { decision: "deny" }],
      grants: { fs: { host_process: ["git"], fs_read: ["/"] } },
    });
    try {
      assert.ok((await f.gate.decide(git("status"), f.ctx())).allowed);
      const same = await f.gate.decide(
        git("status"),
        f.ctx({ session: OTHER_SESSION }),
      );
      assert.ok(same.allowed && same.proof.type === "allowance");
      const other = await f.gate.decide(
        git("status"),
        f.ctx({ workspace: "/work/other" }),
      );
      assert.ok(!other.allowed);
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name: "`Gate.decide()` with Allow Once grants only this call",
  permissions: P,
  async fn() {
    const f = await makeGate({
      answers: [{ decision: "allow_once" }, { decision: "deny" }],
    });
    try {
      assert.ok((await f.gate.decide(http, f.ctx())).allowed);
      assert.ok(!(await f.gate.decide(http, f.ctx())).allowed);
      assert.equal(f.handler.asked.length, 2);
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.decide()` with Allow Always mints a persistent token linked to the approval entry, valid for the TTL",
  permissions: P,
  async fn() {
    const f = await makeGate({
      answers: [{ decision: "allow_always" }, { decision: "deny" }],
    });
    try {
      const first = await f.gate.decide(http, f.ctx());
      assert.ok(first.allowed && first.mintedTokenId);
      const token = await f.tokens.get(first.mintedTokenId as never);
      assert.equal(token?.claims.approval_audit_id, first.auditId);
      assert.equal(token?.claims.scope, "persistent");
      const second = await f.gate.decide(
        http,
        f.ctx({ session: OTHER_SESSION }),
      );
      assert.ok(second.allowed && second.proof.type === "capability");
      await f.clock.advance(3_600_000 + 1);
      assert.ok(
        !(await f.gate.decide(http, f.ctx())).allowed,
        "after the TTL the human is asked again",
      );
      assert.equal(f.handler.asked.length, 2);
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name: "`Gate.decide()` refunds the reservation when the human denies",
  permissions: P,
  async fn() {
    const f = await makeGate({ answers: [{ decision: "deny" }] });
    try {
      const d = await f.gate.decide(http, f.ctx(), {
        estimatedCostMicros: 2_000_000,
      });
      assert.ok(!d.allowed && d.code === "APPROVAL_DENIED");
      assert.equal((await f.budget.snapshot(f.ctx())).sessionSpentMicros, 0);
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.decide()` with Allow Session for one HTTP host does not cover another host of the same capsule",
  permissions: P,
  async fn() {
    const f = await makeGate({
      answers: [{ decision: "allow_session" }, { decision: "deny" }],
      grants: { fs: { net: ["*"] } },
    });
    try {
      assert.ok((await f.gate.decide(http, f.ctx())).allowed);
      const again = await f.gate.decide({
        ...http,
        url: "https://api.example.com/v2?q=1",
      }, f.ctx());
      assert.ok(again.allowed && again.proof.type === "allowance");
      const other = await f.gate.decide({
        ...http,
        url: "https://docs.example.org/",
      }, f.ctx());
      assert.ok(!other.allowed, "another host needs its own approval");
      const port = await f.gate.decide({
        ...http,
        url: "https://api.example.com:8443/",
      }, f.ctx());
      assert.ok(
        !port.allowed || port.proof.type !== "allowance",
        "another port is not covered",
      );
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.decide()` keeps a file allowance bound to its path and capsule after it is reloaded from the store",
  permissions: P,
  async fn() {
    const f = await makeGate({
      answers: [{ decision: "allow_workspace" }, { decision: "deny" }, {
        decision: "deny",
      }],
      grants: { fs: { fs_read: ["/home"] }, other: { fs_read: ["/home"] } },
    });
    try {
      assert.ok((await f.gate.decide(readOut, f.ctx())).allowed);
      const sibling = await f.gate.decide({
        ...readOut,
        path: "/home/u/.ssh/id_rsa",
      }, f.ctx());
      assert.ok(
        !sibling.allowed,
        "the allowance names one file, not the capsule's whole read capability",
      );
      const otherCapsule = await f.gate.decide(
        { ...readOut, capsule_id: "other" },
        f.ctx({ capsule: "other" as never }),
      );
      assert.ok(
        !otherCapsule.allowed || otherCapsule.proof.type !== "allowance",
      );
      const again = await f.gate.decide(
        readOut,
        f.ctx({ session: OTHER_SESSION }),
      );
      assert.ok(again.allowed && again.proof.type === "allowance");
    } finally {
      await f.close();
    }
  },
});
