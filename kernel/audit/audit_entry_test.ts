import assert from "node:assert/strict";
import { canonicalize } from "../core/canonical_json.ts";
import {
  type AuditEntry,
  entryBody,
  entryHashInput,
  parseAuditEntry,
} from "./audit_entry.ts";

const ENTRY: AuditEntry = JSON.parse(JSON.stringify({
  id: "6f1c9a3e-0000-4000-8000-00000000000a",
  seq: 3,
  timestamp: 1_700_000_000_000,
  principal: "alice",
  session: null,
  capsule: "fs",
  call_id: "c1",
  action: { type: "file_read", path: "/ws/a" },
  decision: "denied",
  proof: { type: "policy", rule: "denied_paths" },
  outcome: null,
  prev_hash: "ab".repeat(32),
  key_id: "0123456789abcdef",
  hash: "cd".repeat(32),
  signature: "A".repeat(86) + "==",
}));

Deno.test({
  name: "`parseAuditEntry()` accepts a well-formed entry",
  permissions: "none",
  fn() {
    assert.deepEqual(parseAuditEntry(ENTRY), { ok: true, value: ENTRY });
  },
});

Deno.test({
  name: "`parseAuditEntry()` rejects missing, extra and mistyped fields",
  permissions: "none",
  fn() {
    const { hash: _h, ...noHash } = ENTRY;
    const cases: [unknown, RegExp][] = [
      [null, /not a JSON object/],
      [[ENTRY], /not a JSON object/],
      [noHash, /no 'hash'/],
      [{ ...ENTRY, extra: 1 }, /unknown field 'extra'/],
      [{ ...ENTRY, seq: -1 }, /'seq'/],
      [{ ...ENTRY, seq: 1.5 }, /'seq'/],
      [{ ...ENTRY, id: "ABC" }, /'id'/],
      [{ ...ENTRY, decision: "ok" }, /'decision'/],
      [{ ...ENTRY, session: 5 }, /'session'/],
      [{ ...ENTRY, prev_hash: "AB".repeat(32) }, /'prev_hash'/],
      [{ ...ENTRY, key_id: "xyz" }, /'key_id'/],
      [{ ...ENTRY, signature: "abc" }, /'signature'/],
      [{ ...ENTRY, principal: "" }, /'principal'/],
    ];
    for (const [value, why] of cases) {
      const r = parseAuditEntry(value);
      assert.equal(r.ok, false);
      assert.match((r as { issue: string }).issue, why);
    }
  },
});

Deno.test({
  name:
    "`entryHashInput()` is the canonical JSON of every field but hash and signature",
  permissions: "none",
  fn() {
    const text = new TextDecoder().decode(entryHashInput(ENTRY));
    assert.equal(text, canonicalize(entryBody(ENTRY)));
    assert.ok(!text.includes('"hash"') && !text.includes('"signature"'));
    assert.ok(text.startsWith('{"action":{"path":"/ws/a","type":"file_read"}'));
    const reordered = Object.fromEntries(Object.entries(ENTRY).reverse());
    assert.deepEqual(entryHashInput(reordered as never), entryHashInput(ENTRY));
  },
});
