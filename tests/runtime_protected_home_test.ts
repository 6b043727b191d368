/**
 * End-to-end, issue 11 finding 2 (second half): `$ASTRID_HOME` is
 * hard-denied to every capsule in every mode. A capsule whose (signed,
 * installed) manifest grants the kernel's `keys/` and `var/` still cannot
 * read the runtime key or the state store in `autonomous` mode — under any
 * spelling of the path — nor write into the installed capsules through
 * `home://`; each refusal is a policy denial in the audit chain. Its own
 * `home://` files stay reachable.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import type { JsonValue } from "../kernel/store/store.ts";
import {
  assertOk,
  assertRefused,
  ENGINES,
  makeRuntime,
  PERMS,
} from "./runtime_fixture_test.ts";

type Obj = { [k: string]: JsonValue };

const BASE = path.resolve(import.meta.dirname ?? ".", "../.test-tmp");

for (const engine of ENGINES) {
  Deno.test({
    name:
      `runtime (${engine}): a capsule granted $ASTRID_HOME/keys cannot read the runtime key in autonomous mode, under any spelling, and every denial is audited`,
    permissions: PERMS,
    async fn() {
      // Outside /tmp (a guest's /tmp/... is its private tmp) and outside the
      // default never_allow prefixes (/var, /root): only the policy decides.
      await Deno.mkdir(BASE, { recursive: true });
      const f = await makeRuntime({ tempBase: BASE });
      try {
        const home = f.home;
        const alias = path.join(path.dirname(home), "alias");
        await Deno.symlink(home, alias);
        const key = await Deno.readTextFile(
          path.join(home, "keys/runtime.key"),
        );
        const name = `${engine}-keyreader`;
        await f.install({
          name,
          engine,
          capabilities: [
            `fs_read = [${JSON.stringify(path.join(home, "keys"))}, ${
              JSON.stringify(home)
            }, "home://", ${JSON.stringify(alias)}]`,
            'fs_write = ["home://"]',
          ],
        });
        assert.deepEqual((await f.boot()).refused, []);
        const reads = [
          `${home}/keys/runtime.key`,
          `${home}//keys/./runtime.key`,
          `${home}/keys/runtime.key/`,
          `${home}/keys`,
          `${home}/var/state.kv`,
          `${home}/run/system.token`,
          `${home}/etc/config.toml`,
          `home://.local/capsules/${name}/meta.json`,
          `home://.config/env`,
        ];
        for (const p of reads) {
          const r = await f.hostCall(name, "fs_read", { path: p });
          assert.equal(r.ok, false, p);
          assert.ok(!JSON.stringify(r).includes(key.trim()), p);
          // A home:// path maps into the home and the policy refuses it. An
          // absolute host path is never served from the host: outside the
          // workspace and /tmp the one path mapper refuses it
          // (VFS_PATH_ESCAPE, audited); under /tmp (a checkout there) it
          // names the guest's private tmp, where the key is not.
          if (p.startsWith("home://")) {
            assertRefused(r, "POLICY_BLOCKED");
          } else if (!r.ok) {
            assert.ok(
              ["VFS_PATH_ESCAPE", "POLICY_BLOCKED", "VFS_NOT_FOUND"].includes(
                r.error.code,
              ),
              `${p}: ${r.error.code}`,
            );
          }
        }
        // A symlinked spelling of the home: the VFS refuses a host path
        // outside the workspace and /tmp before anything is read.
        const viaAlias = await f.hostCall(name, "fs_read", {
          path: `${alias}/keys/runtime.key`,
        });
        assert.equal(viaAlias.ok, false);
        assert.ok(!JSON.stringify(viaAlias).includes(key.trim()));
        assertRefused(
          await f.hostCall(name, "fs_write", {
            path: "home://.local/capsules/evil/Capsule.toml",
            content: "[package]",
          }),
          "POLICY_BLOCKED",
        );
        // The capsule's own home:// area stays reachable.
        assertOk(
          await f.hostCall(name, "fs_write", {
            path: "home://notes.md",
            content: "mine",
          }),
        );
        const denied = (await f.audit(name, "denied")).map((e) =>
          e as unknown as Obj
        );
        // Each home:// refusal (and the write) is a policy denial in the
        // chain, naming the ASTRID_HOME rule.
        const byPolicy = denied.filter((e) =>
          (e.proof as Obj).layer === "policy" &&
          /ASTRID_HOME/.test(JSON.stringify(e.proof))
        );
        const homeReads = reads.filter((p) => p.startsWith("home://")).length;
        assert.ok(
          byPolicy.length >= homeReads + 1,
          JSON.stringify(denied),
        );
      } finally {
        await f.close();
      }
    },
  });
}
