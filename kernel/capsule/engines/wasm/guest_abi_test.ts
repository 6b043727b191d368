import assert from "node:assert/strict";
import { KernelError } from "../../../core/errors.ts";
import {
  answerHostCall,
  MAX_HOST_REQUEST_BYTES,
  parseHostRequest,
} from "./guest_abi.ts";

const live = () => ({ signal: new AbortController().signal });

function isCode(code: string) {
  return (err: unknown) => KernelError.is(err, code as never);
}

Deno.test({
  name:
    "`parseHostRequest()` accepts {fn, payload} and defaults a missing payload to null",
  permissions: "none",
  fn() {
    assert.deepEqual(parseHostRequest('{"fn":"log","payload":"x"}'), {
      fn: "log",
      payload: "x",
    });
    assert.deepEqual(parseHostRequest('{"fn":"clock.now"}'), {
      fn: "clock.now",
      payload: null,
    });
  },
});

Deno.test({
  name:
    "`parseHostRequest()` rejects non-JSON, non-objects, extra keys and bad names with INVALID_INPUT",
  permissions: "none",
  fn() {
    for (
      const bad of [
        "",
        "{",
        "[]",
        "null",
        '"fn"',
        '{"payload":1}',
        '{"fn":1}',
        '{"fn":""}',
        '{"fn":"Kv_get"}',
        '{"fn":"kv get"}',
        '{"fn":"../x"}',
        `{"fn":"${"a".repeat(129)}"}`,
        '{"fn":"kv_get","payload":1,"as":"root"}',
        '{"fn":"kv_get","__proto__":{"x":1}}',
      ]
    ) {
      assert.throws(() => parseHostRequest(bad), isCode("INVALID_INPUT"), bad);
    }
  },
});

Deno.test({
  name:
    "`parseHostRequest()` refuses a request above 10 MiB with ABI_PAYLOAD_TOO_LARGE",
  permissions: "none",
  fn() {
    const big = `{"fn":"x","payload":"${"a".repeat(MAX_HOST_REQUEST_BYTES)}"}`;
    assert.throws(() => parseHostRequest(big), isCode("ABI_PAYLOAD_TOO_LARGE"));
  },
});

Deno.test({
  name:
    "`answerHostCall()` passes fn, payload and the call's signal, and wraps the value",
  permissions: "none",
  async fn() {
    const ctl = new AbortController();
    const seen: unknown[] = [];
    const reply = await answerHostCall(
      '{"fn":"kv_get","payload":{"key":"k"}}',
      (fn, payload, { signal }) => {
        seen.push(fn, payload, signal);
        return Promise.resolve({ v: "ü" });
      },
      { signal: ctl.signal },
    );
    assert.equal(reply, '{"ok":true,"value":{"v":"ü"}}');
    assert.deepEqual(seen, ["kv_get", { key: "k" }, ctl.signal]);
  },
});

Deno.test({
  name:
    "`answerHostCall()` turns a KernelError into an error envelope with host paths redacted",
  permissions: "none",
  async fn() {
    const reply = await answerHostCall(
      '{"fn":"fs_read","payload":{"path":"/etc/passwd"}}',
      () =>
        Promise.reject(
          new KernelError(
            "MANIFEST_DENIED",
            "Cannot read /etc/passwd as it is not granted",
          ),
        ),
      live(),
    );
    assert.deepEqual(JSON.parse(reply), {
      ok: false,
      error: {
        code: "MANIFEST_DENIED",
        message: "Cannot read <path> as it is not granted",
      },
    });
  },
});

Deno.test({
  name:
    "`answerHostCall()` hides the text of non-kernel errors (INTERNAL) and never rejects",
  permissions: "none",
  async fn() {
    const reply = await answerHostCall(
      '{"fn":"x"}',
      () => Promise.reject(new Error("secret token abc123 in stack")),
      live(),
    );
    assert.deepEqual(JSON.parse(reply), {
      ok: false,
      error: { code: "INTERNAL", message: "Internal error" },
    });
    const bad = await answerHostCall(
      "not json",
      () => Promise.resolve(1),
      live(),
    );
    assert.equal(JSON.parse(bad).error.code, "INVALID_INPUT");
  },
});
