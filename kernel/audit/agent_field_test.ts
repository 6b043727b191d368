import assert from "node:assert/strict";
import { publicKeyToBase64 } from "../crypto/key_id.ts";
import { ALICE, editStored, fill, openFixture, rec } from "./_fixture_test.ts";
import { verifyExportLines } from "./standalone_verify.ts";

Deno.test({
  name:
    "audit: an entry names the agent it ran for; chains with and without the field verify, in the kernel and standalone",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await fill(f, 2); // entries as written before the field existed
    await f.log.append(rec(ALICE, { agent: "turn-1/t1" }));
    await f.log.flush();
    assert.equal((await f.log.get(ALICE, 2))?.agent, "turn-1/t1");
    assert.equal("agent" in (await f.log.get(ALICE, 0))!, false);
    assert.equal((await f.log.verify(ALICE)).valid, true);
    const lines: string[] = [];
    for await (const line of f.log.exportJsonl(ALICE)) lines.push(line);
    assert.deepEqual(
      verifyExportLines(lines, [publicKeyToBase64(f.keyPair.publicKey)]),
      { valid: true, entriesVerified: 3 },
    );
  },
});

Deno.test({
  name:
    "audit: the agent is signed — re-attributing an entry to another agent breaks the chain",
  permissions: "none",
  async fn() {
    await using f = await openFixture();
    await f.log.append(rec(ALICE, { agent: "turn-1/t1" }));
    await fill(f, 1);
    await f.log.flush();
    await editStored(f, { principal: ALICE, seq: 0 }, (b) => {
      b.agent = "turn-1";
    });
    assert.equal((await f.log.verify(ALICE)).valid, false);
    await editStored(f, { principal: ALICE, seq: 0 }, (b) => {
      delete b.agent;
    });
    assert.equal((await f.log.verify(ALICE)).valid, false);
  },
});
