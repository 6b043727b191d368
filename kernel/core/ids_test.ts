import assert from "node:assert/strict";
import { KernelError } from "./errors.ts";
import {
  newSessionId,
  parseAuditEntryId,
  parseCapsuleId,
  parsePrincipalId,
  parseSessionId,
  parseTokenId,
  uuidV4,
} from "./ids.ts";
import type { Random } from "./ports.ts";

const counting: Random = {
  bytes: (n) => Uint8Array.from({ length: n }, (_, i) => i * 17),
};

function rejects(fn: () => unknown): void {
  assert.throws(fn, (e) => KernelError.is(e, "INVALID_ID"));
}

Deno.test({
  name:
    "`parsePrincipalId()` accepts 1-64 chars of [A-Za-z0-9_-] and rejects everything else",
  permissions: "none",
  fn() {
    assert.equal(parsePrincipalId("default"), "default");
    assert.equal(parsePrincipalId("A_b-9"), "A_b-9");
    parsePrincipalId("x".repeat(64));
    for (
      const bad of [
        "",
        "x".repeat(65),
        "../keys",
        "a b",
        "a/b",
        "é",
        "a\0",
        7,
        null,
      ]
    ) {
      rejects(() => parsePrincipalId(bad));
    }
  },
});

Deno.test({
  name: "`parseCapsuleId()` accepts lower-case names with inner hyphens only",
  permissions: "none",
  fn() {
    assert.equal(parseCapsuleId("provider-openai"), "provider-openai");
    assert.equal(parseCapsuleId("fs"), "fs");
    for (const bad of ["", "-fs", "fs-", "Fs", "f_s", "f.s", "a".repeat(65)]) {
      rejects(() => parseCapsuleId(bad));
    }
  },
});

Deno.test({
  name: "UUID-based id parsers accept lower-case hyphenated UUIDs only",
  permissions: "none",
  fn() {
    const id = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
    assert.equal(parseSessionId(id), id);
    assert.equal(parseTokenId(id), id);
    assert.equal(parseAuditEntryId(id), id);
    for (
      const bad of [
        id.toUpperCase(),
        id.replaceAll("-", ""),
        `${id} `,
        "token:" + id,
      ]
    ) {
      rejects(() => parseTokenId(bad));
    }
  },
});

Deno.test({
  name: "`uuidV4()` sets version and variant bits, and minted ids parse",
  permissions: "none",
  fn() {
    const u = uuidV4(counting);
    assert.match(
      u,
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    assert.equal(parseSessionId(newSessionId(counting)), u);
  },
});

Deno.test({
  name:
    "`parsePrincipalId()` error names the kind and the rule but truncates long input",
  permissions: "none",
  fn() {
    try {
      parsePrincipalId("z".repeat(500));
      assert.fail("should throw");
    } catch (e) {
      assert.ok(KernelError.is(e, "INVALID_ID"));
      assert.match(e.message, /principal id/);
      assert.ok(e.message.length < 200);
    }
  },
});
