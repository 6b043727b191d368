import assert from "node:assert/strict";
import { KvStore } from "../store/kv_store.ts";
import { openKv } from "../host/open_kv.ts";
import type { PrincipalId, SessionId } from "../core/ids.ts";
import {
  MAX_TITLE_LENGTH,
  SessionRecords,
  SESSIONS_NAMESPACE,
  titleOf,
} from "./session_records.ts";

const A = "00000000-0000-4000-8000-000000000001" as SessionId;
const B = "00000000-0000-4000-8000-000000000002" as SessionId;

function record(id: SessionId, created: number) {
  return {
    id,
    workspace: "/ws",
    created_at: created,
    updated_at: created,
    turns: 0,
    title: null,
  };
}

Deno.test("session records list newest first, per principal, and skip malformed entries", async () => {
  await using store = new KvStore(await openKv(":memory:"));
  const mine = new SessionRecords(store, "alice" as PrincipalId);
  const theirs = new SessionRecords(store, "bob" as PrincipalId);
  await mine.put(record(A, 1));
  await mine.put(record(B, 2));
  await theirs.put(record(A, 3));
  await store.set([SESSIONS_NAMESPACE, "alice", "junk"], { id: "x" });
  assert.deepEqual((await mine.list()).map((r) => r.id), [B, A]);
  assert.deepEqual((await theirs.list()).map((r) => r.created_at), [3]);
  assert.equal((await mine.get(A))?.created_at, 1);
  await mine.delete(A);
  assert.equal(await mine.get(A), null);
  assert.equal(
    await theirs.get(A) !== null,
    true,
    "another principal's record stays",
  );
});

Deno.test("a malformed session id is simply unknown", async () => {
  await using store = new KvStore(await openKv(":memory:"));
  const records = new SessionRecords(store, "alice" as PrincipalId);
  assert.equal(await records.get("../../etc"), null);
  assert.equal(await records.get(""), null);
});

Deno.test("a session's title is the first non-empty line of its first prompt, cut", () => {
  assert.equal(titleOf("\n\n  Fix it \nmore"), "Fix it");
  assert.equal(titleOf("x".repeat(500)).length, MAX_TITLE_LENGTH);
  assert.equal(titleOf("   "), "");
});
