import assert from "node:assert/strict";
import { Activity } from "./activity.ts";

Deno.test("Activity counts a request until its streamed body ends", async () => {
  let now = 0;
  const activity = new Activity(() => now);
  let push!: (s: string) => void;
  let end!: () => void;
  const handler = activity.wrap(() => {
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        push = (s) => c.enqueue(new TextEncoder().encode(s));
        end = () => c.close();
      },
    });
    return Promise.resolve(new Response(body, { status: 201 }));
  });
  const res = await handler(new Request("http://x/"));
  assert.equal(res.status, 201);
  assert.equal(activity.inFlight, 1);
  const text = res.text();
  push("a");
  now = 50;
  end();
  assert.equal(await text, "a");
  assert.equal(activity.inFlight, 0);
  assert.equal(activity.lastActive, 50);
});

Deno.test("Activity stops counting a stream the client cancels, and a request whose handler throws", async () => {
  const activity = new Activity(() => 0);
  const streaming = activity.wrap(() =>
    Promise.resolve(new Response(new ReadableStream({ pull() {} })))
  );
  const res = await streaming(new Request("http://x/"));
  assert.equal(activity.inFlight, 1);
  await res.body!.cancel();
  assert.equal(activity.inFlight, 0);
  const failing = activity.wrap(() => Promise.reject(new Error("boom")));
  await assert.rejects(failing(new Request("http://x/")), /boom/);
  assert.equal(activity.inFlight, 0);
  const empty = activity.wrap(() => Promise.resolve(new Response(null)));
  await empty(new Request("http://x/"));
  assert.equal(activity.inFlight, 0);
});
