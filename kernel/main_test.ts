import assert from "node:assert/strict";
import { parseDaemonArgs } from "./main.ts";

Deno.test("parseDaemonArgs reads repeated --root, --ephemeral and --log, and refuses anything else", () => {
  assert.deepEqual(
    parseDaemonArgs([
      "--root",
      "/a",
      "--ephemeral",
      "--root",
      "/b",
      "--log",
      "/l",
    ]),
    { roots: ["/a", "/b"], ephemeral: true, log: "/l" },
  );
  assert.deepEqual(parseDaemonArgs([]), { roots: [], ephemeral: false });
  assert.throws(() => parseDaemonArgs(["--allow-all"]));
  assert.throws(() => parseDaemonArgs(["positional"]));
  assert.throws(() => parseDaemonArgs(["--root"]));
});
