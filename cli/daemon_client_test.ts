import assert from "node:assert/strict";
import { KernelError } from "../mod.ts";
import { checkServerUrl, daemonEntry } from "./daemon_client.ts";

Deno.test("checkServerUrl accepts https anywhere and http on loopback only", () => {
  for (
    const ok of [
      "https://astrid.example.com",
      "http://127.0.0.1:8787",
      "http://localhost:1",
      "http://[::1]:8787/",
    ]
  ) assert.equal(checkServerUrl(ok), ok);
  for (
    const bad of [
      "http://astrid.example.com",
      "http://10.0.0.2:8787",
      "ftp://x",
      "nope",
    ]
  ) {
    assert.throws(
      () => checkServerUrl(bad),
      (e) => KernelError.is(e) && e.code === "INVALID_INPUT",
    );
  }
});

Deno.test("daemonEntry names kernel/main.ts of this checkout", async () => {
  const entry = daemonEntry();
  assert.match(entry, /\/kernel\/main\.ts$/);
  assert.ok((await Deno.stat(entry)).isFile);
});
