import assert from "node:assert/strict";
import { SessionCalls } from "./session_calls.ts";
import type { ApprovalRequest } from "../security/approval/handler.ts";

const test = (name: string, fn: () => void) =>
  Deno.test({ name, permissions: "none", fn });

test("SessionCalls registers the approval listener on the first call in and removes it on the last call out", () => {
  const log: string[] = [];
  const calls = new SessionCalls(() => {
    log.push("listen");
    return () => log.push("stop");
  });
  calls.enter();
  calls.enter();
  assert.deepEqual(log, ["listen"]);
  assert.equal(calls.leave(), false);
  assert.deepEqual(log, ["listen"]);
  assert.equal(calls.leave(), true);
  assert.deepEqual(log, ["listen", "stop"]);
  calls.enter();
  assert.deepEqual(log, ["listen", "stop", "listen"]);
});

test("SessionCalls.of() sends a request that names no call to every call in flight (none here)", () => {
  const calls = new SessionCalls(() => () => {});
  const request = {
    id: "approval:x",
    ctx: { callId: "c-1", agent: "turn-1" },
  } as unknown as ApprovalRequest;
  assert.deepEqual(calls.of(request), []);
});
