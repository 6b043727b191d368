// A revocation that lands between a decision's store reads and its audit
// commit: the decision carried conditions into that commit (no revocation
// marker on the token chain; the allowance record unchanged), so the entry
// does not land, the gate decides again from the store, and the action is not
// allowed by what was revoked. The revocation is made by a second authority
// on the same store — another kernel, as in a cluster.
import assert from "node:assert/strict";
import { TokenAuthority } from "../capability/token_authority.ts";
import type { TokenId } from "../core/ids.ts";
import { keyPairFromSeed } from "../crypto/key_pair.ts";
import type {
  AtomicWrite,
  CommitResult,
  Store,
  StoreKey,
  StoreValue,
} from "../store/store.ts";
import { SeededRandom } from "../testing/seeded_random.ts";
import type { Action } from "./action.ts";
import { AllowanceStore } from "./approval/allowance_store.ts";
import { makeGate } from "./_gate_fixture_test.ts";

const GIT: Action = { type: "execute_command", command: "git", args: ["push"] };

/** A store whose next atomic commit first runs the armed hook (once). */
function hooked(): {
  wrap: (store: Store) => Store;
  arm: (hook: () => Promise<unknown>) => void;
  fired: () => boolean;
} {
  let hook: (() => Promise<unknown>) | null = null;
  let fired = false;
  class Hooked implements AtomicWrite {
    constructor(readonly inner: AtomicWrite) {}
    check(key: StoreKey, versionstamp: string | null): this {
      this.inner.check(key, versionstamp);
      return this;
    }
    set(key: StoreKey, value: StoreValue): this {
      this.inner.set(key, value);
      return this;
    }
    delete(key: StoreKey): this {
      this.inner.delete(key);
      return this;
    }
    async commit(): Promise<CommitResult> {
      const h = hook;
      hook = null;
      if (h) {
        await h();
        fired = true;
      }
      return await this.inner.commit();
    }
  }
  const wrap = (store: Store) =>
    new Proxy(store, {
      get(target, prop) {
        const v = Reflect.get(target, prop, target);
        if (prop === "atomic") return () => new Hooked(target.atomic());
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
  return { wrap, arm: (h) => (hook = h), fired: () => fired };
}

Deno.test({
  name:
    "`Gate.decide()` does not allow by a token that another kernel revoked after it was verified but before the decision landed",
  permissions: "none",
  async fn() {
    const h = hooked();
    const f = await makeGate({ wrapAuditStore: h.wrap });
    try {
      const other = new TokenAuthority({
        store: f.store,
        clock: f.clock,
        random: new SeededRandom(99n),
        runtimeKey: keyPairFromSeed(new Uint8Array(32).fill(9)),
      });
      const token = await f.tokens.mint({
        principal: f.ctx().principal,
        resource: "exec://git",
        permissions: ["execute"],
        ttlMs: 3_600_000,
        scope: "persistent",
      });
      const first = await f.gate.decide(GIT, f.ctx()); // remembers the head
      assert.ok(first.allowed && first.proof.type === "capability");
      h.arm(() => other.revoke(token.id as TokenId, "revoked elsewhere"));
      const d = await f.gate.decide(GIT, f.ctx({ callId: "call-2" }));
      assert.ok(h.fired());
      assert.equal(d.allowed, false);
      assert.ok(!d.allowed && d.code === "APPROVAL_DEFERRED");
      const allowed = await f.audit.query({
        principal: f.ctx().principal,
        decision: "allowed",
      });
      assert.equal(
        allowed.length,
        1,
        "only the decision before the revocation",
      );
      assert.equal(
        (await f.audit.verify(f.ctx().principal)).valid,
        true,
      );
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "`Gate.decide()` does not allow by an allowance that another kernel revoked after it was confirmed but before the decision landed",
  permissions: "none",
  async fn() {
    const h = hooked();
    const f = await makeGate({ wrapAuditStore: h.wrap });
    try {
      const other = new AllowanceStore({
        store: f.store,
        clock: f.clock,
        random: new SeededRandom(98n),
      });
      const granted = await f.allowances.grant(GIT, f.ctx(), {
        scope: "workspace",
      });
      assert.ok(granted);
      const first = await f.gate.decide(GIT, f.ctx());
      assert.ok(first.allowed && first.proof.type === "allowance");
      h.arm(() => other.revoke(f.ctx().principal, granted.id));
      const d = await f.gate.decide(GIT, f.ctx({ callId: "call-2" }));
      assert.ok(h.fired());
      assert.ok(!d.allowed && d.code === "APPROVAL_DEFERRED");
    } finally {
      await f.close();
    }
  },
});
