import assert from "node:assert/strict";
import { ApiClient } from "../../mod.ts";
import { scriptedApi } from "../../tests/chat_api_fixture_test.ts";
import { ChatApi, listOf, untilAborted } from "./chat_api.ts";

Deno.test("listOf: a bare array or an object holding it; anything else is empty", () => {
  assert.deepEqual(listOf([1, 2], "x"), [1, 2]);
  assert.deepEqual(listOf({ x: [3] }, "x"), [3]);
  assert.deepEqual(listOf({ x: "no" }, "x"), []);
  assert.deepEqual(listOf(null, "x"), []);
});

Deno.test("ChatApi: creates a session, and continues it with its history after a turn", async () => {
  const api = scriptedApi();
  const client = new ApiClient({ handler: api.handler }, api.token);
  try {
    const chat = new ChatApi(client);
    const s = await chat.open({ workspace: "/w" });
    assert.deepEqual(s.history, []);
    const events: string[] = [];
    for await (
      const e of chat.prompt(s.id, "go", new AbortController().signal)
    ) {
      events.push(e.type);
      if (e.type === "approval_required") {
        await chat.answer(e.request_id, "allow_once");
      }
    }
    assert.equal(events.at(0), "turn_start");
    assert.equal(events.at(-1), "final");
    const again = await chat.open({ workspace: "/elsewhere", session: s.id });
    assert.equal(again.id, s.id);
    assert.equal(again.workspace, "/w");
    assert.equal(again.history.length, 2);
    await assert.rejects(
      chat.open({ workspace: "/w", session: "nope" }),
      (err: Error & { code?: string }) => err.code === "NOT_FOUND",
    );
  } finally {
    await api.close();
    client.close();
  }
});

Deno.test("untilAborted: an abort ends the stream at once, even while it waits for its next item", async () => {
  let release = () => {};
  async function* stuck() {
    yield 1;
    await new Promise<void>((r) => (release = r));
    yield 2;
  }
  const abort = new AbortController();
  const seen: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const n of untilAborted(stuck(), abort.signal)) {
        seen.push(n);
        abort.abort();
      }
    })(),
    (err: Error & { code?: string }) => err.code === "ABORTED",
  );
  assert.deepEqual(seen, [1]);
  release();
});
