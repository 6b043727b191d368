/**
 * Benchmarks of {@linkcode TokenAuthority} on a file-backed Deno KV store.
 *
 * Run: `deno bench --allow-read --allow-write kernel/capability/`
 */
import * as path from "node:path";
import { parsePrincipalId } from "../core/ids.ts";
import { openKv } from "../host/open_kv.ts";
import { KvStore } from "../store/kv_store.ts";
import { fixture } from "./_fixture_test.ts";
import type { MintOptions } from "./authority_options.ts";

const dir = await Deno.makeTempDir({ prefix: "astrid_caps_bench_" });
const f = await fixture({
  store: new KvStore(await openKv(path.join(dir, "bench.kv"))),
});
const carol = parsePrincipalId("carol");
const owner = { principal: carol, session: f.session };
const access = {
  resource: "file:///ws/src/main.ts",
  permission: "read",
} as const;
const options: MintOptions = {
  principal: f.alice,
  resource: "file:///ws/**",
  permissions: ["read", "write"],
  ttlMs: 3_600_000,
  scope: "persistent",
  maxDepth: 1,
};
const token = await f.caps.mint(options);
const child = await f.caps.attenuate(token, { permissions: ["read"] });

globalThis.addEventListener("unload", () => {
  f.store.close().finally(() => Deno.removeSync(dir, { recursive: true }));
});

const minter = { ...options, principal: parsePrincipalId("minter") };
Deno.bench("token mint", { group: "capability" }, async () => {
  await f.caps.mint(minter);
});

Deno.bench(
  "token verify",
  { group: "capability" },
  async () => {
    if (!(await f.caps.verify(token)).ok) throw new Error("verify failed");
  },
);

Deno.bench(
  "token verify (child, chain of 2)",
  { group: "capability" },
  async () => {
    if (!(await f.caps.verify(child)).ok) throw new Error("verify failed");
  },
);

Deno.bench("token use (find+consume)", { group: "capability" }, async (b) => {
  // A fresh single-use session token per iteration, minted and cleared
  // outside the timed part so that the principal's index stays small.
  const once = await f.caps.mint({
    ...options,
    principal: carol,
    resource: access.resource,
    scope: "session",
    session: f.session,
    singleUse: true,
  });
  b.start();
  const used = await f.caps.use(owner, access);
  b.end();
  if (used?.id !== once.id) throw new Error("use did not spend the token");
  await f.caps.clearSession(f.session);
});
