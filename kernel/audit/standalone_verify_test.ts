import assert from "node:assert/strict";
import { canonicalize } from "../core/canonical_json.ts";
import { publicKeyToBase64 } from "../crypto/key_id.ts";
import { generateKeyPair } from "../crypto/key_pair.ts";
import { SeededRandom } from "../testing/mod.ts";
import {
  ALICE,
  editStored,
  fill,
  type Fixture,
  openFixture,
  rec,
  resignStored,
} from "./_fixture_test.ts";
import { verifyExportLines } from "./standalone_verify.ts";

async function exported(f: Fixture): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of f.log.exportJsonl(ALICE)) lines.push(line);
  return lines;
}

function key(f: Fixture): string {
  return publicKeyToBase64(f.keyPair.publicKey);
}

Deno.test({
  name:
    "`AuditLog.exportJsonl()` writes each entry as one canonical JSON line with hash and signature",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 3);
    const lines = await exported(f);
    assert.equal(lines.length, 3);
    for (const [i, line] of lines.entries()) {
      const entry = await f.log.get(ALICE, i);
      assert.equal(line, canonicalize(entry));
      assert.ok(!line.includes("\n"));
    }
  },
});

Deno.test({
  name:
    "`verifyExportLines()` verifies a real export, rotation included, with only the original key",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 4);
    await f.log.rotateKey(generateKeyPair(new SeededRandom(3)));
    await fill(f, 2);
    const text = (await exported(f)).join("\n") + "\n";
    const result = verifyExportLines(text.split("\n"), [key(f)]);
    assert.deepEqual(result, { valid: true, entriesVerified: 7 });
  },
});

Deno.test({
  name:
    "`verifyExportLines()` agrees with the kernel's canonical JSON on tricky values",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    const action = {
      type: "execute_command",
      "10": "integer-like keys sort as strings",
      "2": ["é", "\u2028", "\u0000", "😀", 'q"\\'],
      nums: [1e21, 1.5e-7, -0, 0.1, 123456789012345680000],
      nested: { b: { d: null, c: true }, a: [] },
    };
    await f.log.append(rec(ALICE, { action }));
    const result = verifyExportLines(await exported(f), [key(f)]);
    assert.deepEqual(result, { valid: true, entriesVerified: 1 });
    assert.deepEqual(await f.log.verify(ALICE), result);
  },
});

Deno.test({
  name:
    "`verifyExportLines()` names the entry edited in the store before export",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 5);
    await editStored(f, { principal: ALICE, seq: 3 }, (b) => {
      b.decision = "allowed";
      b.proof = { type: "forged" };
    });
    const result = verifyExportLines(await exported(f), [key(f)]);
    assert.equal(result.valid, false);
    assert.equal(result.firstBad?.code, "HASH_MISMATCH");
    assert.equal(result.firstBad?.line, 4);
    assert.equal(result.firstBad?.id, (await f.log.get(ALICE, 3))?.id);
    assert.equal(result.entriesVerified, 3);
  },
});

Deno.test({
  name: "`verifyExportLines()` names a line tampered in the export file",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 5);
    const lines = await exported(f);
    lines[2] = lines[2]!.replace('"decision":"allowed"', '"decision":"denied"');
    const result = verifyExportLines(lines, [key(f)]);
    assert.equal(result.firstBad?.code, "HASH_MISMATCH");
    assert.equal(result.firstBad?.seq, 2);
  },
});

Deno.test({
  name: "`verifyExportLines()` detects dropped and reordered lines",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 5);
    const lines = await exported(f);
    const dropped = [...lines.slice(0, 2), ...lines.slice(3)];
    assert.equal(
      verifyExportLines(dropped, [key(f)]).firstBad?.code,
      "SEQ_GAP",
    );
    const swapped = [lines[0]!, lines[2]!, lines[1]!, lines[3]!];
    const r = verifyExportLines(swapped, [key(f)]);
    assert.deepEqual([r.firstBad?.line, r.firstBad?.code], [2, "SEQ_GAP"]);
    const back = verifyExportLines([lines[0]!, lines[1]!, lines[1]!], [key(f)]);
    assert.deepEqual([back.firstBad?.line, back.firstBad?.code], [
      3,
      "REORDERED",
    ]);
  },
});

Deno.test({
  name: "`verifyExportLines()` rejects an entry re-signed with a foreign key",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 4);
    const attacker = generateKeyPair(new SeededRandom(666));
    await resignStored(f, { principal: ALICE, seq: 1 }, attacker, (b) => {
      b.key_id = attacker.keyId;
    });
    const r = verifyExportLines(await exported(f), [key(f)]);
    assert.deepEqual([r.firstBad?.seq, r.firstBad?.code], [1, "KEY_UNTRUSTED"]);
    const trustingBoth = verifyExportLines(await exported(f), [
      key(f),
      publicKeyToBase64(attacker.publicKey),
    ]);
    assert.equal(trustingBoth.firstBad?.code, "KEY_NOT_CURRENT");
  },
});

Deno.test({
  name:
    "`verifyExportLines()` detects a cut-off tail only when given the expected head",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 5);
    const head = (await f.log.head(ALICE))!;
    const lines = (await exported(f)).slice(0, 3);
    assert.equal(verifyExportLines(lines, [key(f)]).valid, true);
    const cut = verifyExportLines(lines, [key(f)], { expectedHead: head });
    assert.deepEqual([cut.firstBad?.seq, cut.firstBad?.code], [3, "TRUNCATED"]);
    const wrong = { seq: 4, hash: "0".repeat(64) };
    const all = await exported(f);
    const mismatch = verifyExportLines(all, [key(f)], { expectedHead: wrong });
    assert.equal(mismatch.firstBad?.code, "HEAD_MISMATCH");
    const ok = verifyExportLines(all, [key(f)], { expectedHead: head });
    assert.deepEqual(ok, { valid: true, entriesVerified: 5 });
  },
});

Deno.test({
  name:
    "`verifyExportLines()` skips blank lines, reports non-JSON and refuses a bad trusted key",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 2);
    const [a, b] = await exported(f);
    const spaced = verifyExportLines(["", a!, "  ", b!, ""], [key(f)]);
    assert.deepEqual(spaced, { valid: true, entriesVerified: 2 });
    const junk = verifyExportLines([a!, "not json"], [key(f)]);
    assert.deepEqual([junk.firstBad?.line, junk.firstBad?.code], [
      2,
      "MALFORMED",
    ]);
    assert.throws(() => verifyExportLines([a!], ["short"]), TypeError);
  },
});
