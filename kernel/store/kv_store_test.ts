import { openKv } from "../host/open_kv.ts";
import { STORE_CASES } from "./_conformance_test_suite.ts";
import { KvStore } from "./kv_store.ts";

// The backend-independent cases live in the shared conformance suite, which
// PostgreSQL runs too (tests/pg_store_test.ts); here they run on Deno KV.
for (const c of STORE_CASES) {
  Deno.test({
    name: c.name,
    permissions: "none",
    fn: () => c.run(async () => new KvStore(await openKv(":memory:"))),
  });
}
