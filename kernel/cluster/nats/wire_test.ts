import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { canonicalBytes } from "../../core/canonical_json.ts";
import { KernelError } from "../../core/errors.ts";
import type { PrincipalId } from "../../core/ids.ts";
import { sign } from "../../crypto/ed25519.ts";
import { keyPairFromSeed } from "../../crypto/key_pair.ts";
import {
  type ClusterEvent,
  decodeEvent,
  encodeEvent,
  MAX_EVENT_BYTES,
} from "./wire.ts";

const key = keyPairFromSeed(new Uint8Array(32).fill(7));
const other = keyPairFromSeed(new Uint8Array(32).fill(8));
const SUBJECT = "astrid.ev.node-a.astrid.v1.approval";
const event: ClusterEvent = {
  id: "node-a:abc-1",
  origin: "node-a",
  topic: "astrid.v1.approval",
  principal: "default" as PrincipalId,
  session: "6f1d7c1e-93a4-4f5e-8a57-2b1f0c9d4e01" as ClusterEvent["session"],
  payload: { request_id: "r1", nested: { a: [1, 2] } },
  sent_at: 1_700_000_000_000,
};

function refused(e: unknown): boolean {
  return KernelError.is(e, "CLUSTER_MESSAGE_INVALID");
}

function tamper(bytes: Uint8Array, f: (o: Record<string, unknown>) => void) {
  const o = JSON.parse(new TextDecoder().decode(bytes));
  f(o);
  return new TextEncoder().encode(JSON.stringify(o));
}

Deno.test("`encodeEvent()` / `decodeEvent()` round-trip a signed event", async () => {
  const bytes = await encodeEvent(event, key);
  assert.deepEqual(await decodeEvent(SUBJECT, bytes, key.publicKey), event);
});

Deno.test("`decodeEvent()` refuses a payload, topic, origin or principal changed after signing", async () => {
  const bytes = await encodeEvent(event, key);
  for (
    const f of [
      (o: Record<string, unknown>) => (o["payload"] = { request_id: "r2" }),
      (o: Record<string, unknown>) => (o["principal"] = "root"),
      (o: Record<string, unknown>) => (o["session"] = null),
      (o: Record<string, unknown>) => (o["id"] = "node-a:abc-2"),
      (o: Record<string, unknown>) => (o["sent_at"] = 1),
    ]
  ) {
    await assert.rejects(
      decodeEvent(SUBJECT, tamper(bytes, f), key.publicKey),
      refused,
    );
  }
});

Deno.test("`decodeEvent()` refuses a signature by another key, a missing one, and one without the domain prefix", async () => {
  await assert.rejects(
    decodeEvent(SUBJECT, await encodeEvent(event, other), key.publicKey),
    refused,
  );
  const bytes = await encodeEvent(event, key);
  await assert.rejects(
    decodeEvent(SUBJECT, tamper(bytes, (o) => delete o["sig"]), key.publicKey),
    refused,
  );
  // A signature over the same fields without the domain prefix (as another
  // kernel signature could be) does not verify.
  const bare = await sign(key, canonicalBytes({ v: 1, ...event }));
  await assert.rejects(
    decodeEvent(
      SUBJECT,
      tamper(bytes, (o) => (o["sig"] = Buffer.from(bare).toString("base64"))),
      key.publicKey,
    ),
    refused,
  );
});

Deno.test("`decodeEvent()` refuses an origin or topic that differs from the subject's, and node-local topics", async () => {
  const bytes = await encodeEvent(event, key);
  for (
    const subject of [
      "astrid.ev.node-b.astrid.v1.approval",
      "astrid.ev.node-a.astrid.v1.approval.response.r1",
      "astrid.ev.node-a",
      "other.ev.node-a.astrid.v1.approval",
    ]
  ) {
    await assert.rejects(decodeEvent(subject, bytes, key.publicKey), refused);
  }
  for (
    const topic of [
      "astrid.v1.elicit",
      "agent.v1.response",
      "astrid.v1.session.s1.delta",
    ]
  ) {
    const local = await encodeEvent({ ...event, topic }, key);
    await assert.rejects(
      decodeEvent(`astrid.ev.node-a.${topic}`, local, key.publicKey),
      refused,
      topic,
    );
  }
});

Deno.test("`decodeEvent()` refuses malformed bytes, unknown fields and oversized messages", async () => {
  const bytes = await encodeEvent(event, key);
  for (
    const bad of [
      new TextEncoder().encode("not json"),
      new Uint8Array([0xff, 0xfe]),
      new TextEncoder().encode("[]"),
      tamper(bytes, (o) => (o["extra"] = 1)),
      tamper(bytes, (o) => (o["v"] = 2)),
      tamper(bytes, (o) => (o["origin"] = "node.a")),
      new Uint8Array(MAX_EVENT_BYTES + 1),
    ]
  ) {
    await assert.rejects(decodeEvent(SUBJECT, bad, key.publicKey), refused);
  }
  await assert.rejects(
    encodeEvent({ ...event, payload: "x".repeat(MAX_EVENT_BYTES) }, key),
    refused,
  );
});
