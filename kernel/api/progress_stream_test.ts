import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { progressStream } from "./progress_stream.ts";

Deno.test("progressStream(): progress lines in order (host paths redacted), then one done with the result", async () => {
  const events = [];
  for await (
    const e of progressStream(async (p) => {
      p("one /home/someone/x");
      await Promise.resolve();
      p("two");
      return { n: 2 };
    }, (r) => `did ${r["n"]}`)
  ) events.push(e);
  assert.deepEqual(events, [
    { type: "progress", message: "one <path>", step: 1 },
    { type: "progress", message: "two", step: 2 },
    { type: "done", message: "did 2", result: { n: 2 } },
  ]);
});

Deno.test("progressStream(): a failure ends with one coded error event, host paths redacted, no data", async () => {
  const events = [];
  for await (
    const e of progressStream(() => {
      throw new KernelError(
        "MANIFEST_INVALID",
        "Bad /home/someone/secret/Capsule.toml",
        { data: { content: "root:x:0:0" } },
      );
    }, () => "never")
  ) events.push(e);
  assert.equal(events.length, 1);
  assert.equal(events[0]!.type, "error");
  assert.equal(events[0]!.error?.code, "MANIFEST_INVALID");
  assert.ok(!JSON.stringify(events).includes("/home/someone"));
  assert.ok(!JSON.stringify(events).includes("root:x"));
});

Deno.test("progressStream(): a consumer that stops early aborts the operation", async () => {
  let aborted = false;
  for await (
    const _ of progressStream(async (p, signal) => {
      p("started");
      await new Promise<void>((resolve) =>
        signal.addEventListener("abort", () => {
          aborted = true;
          resolve();
        })
      );
      return {};
    }, () => "done")
  ) break;
  assert.equal(aborted, true);
});
