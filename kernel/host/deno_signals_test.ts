import assert from "node:assert/strict";
import { createDenoSignals } from "./deno_signals.ts";
import { type ChildExit, evalChild } from "./_eval_child_test.ts";

/** Runs `code` in a fresh Deno process that may signal itself. */
function runChild(code: string): Promise<ChildExit> {
  const url = new URL("./deno_signals.ts", import.meta.url).href;
  return evalChild(`import { createDenoSignals } from "${url}";\n${code}`);
}

Deno.test({
  name:
    "`createDenoSignals().onShutdown()` calls the handler with SIGTERM and lets the process exit after dispose",
  permissions: { run: true, read: true },
  ignore: Deno.build.os === "windows",
  async fn() {
    const result = await runChild(`
      const got = Promise.withResolvers();
      const dispose = createDenoSignals().onShutdown((s) => got.resolve(s));
      Deno.kill(Deno.pid, "SIGTERM");
      console.log(await got.promise);
      dispose();`);
    assert.deepEqual(result, { code: 0, signal: null, stdout: "SIGTERM\n" });
  },
});

Deno.test({
  name:
    "`createDenoSignals().onShutdown()` dispose removes the listeners, so SIGTERM ends the process again",
  permissions: { run: true, read: true },
  ignore: Deno.build.os === "windows",
  async fn() {
    // If a listener leaked, it would swallow SIGTERM and the child would print "survived".
    const result = await runChild(`
      const dispose = createDenoSignals().onShutdown(() => console.log("handler ran"));
      dispose();
      dispose();
      Deno.kill(Deno.pid, "SIGTERM");
      await new Promise((r) => setTimeout(r, 5_000));
      console.log("survived");`);
    assert.deepEqual(result, { code: 143, signal: "SIGTERM", stdout: "" });
  },
});

Deno.test({
  name:
    "`createDenoSignals().onShutdown()` registers and disposes without any permission",
  permissions: "none",
  fn() {
    const signals = createDenoSignals();
    const a = signals.onShutdown(() => {});
    const b = signals.onShutdown(() => {});
    a();
    b();
    a();
  },
});
