import assert from "node:assert/strict";
import { MemoryLogger } from "./memory_logger.ts";

Deno.test({
  name:
    "`MemoryLogger.child()` merges fields (child over parent, record over child) into the shared list",
  permissions: "none",
  fn() {
    const root = new MemoryLogger({ app: "astrid", layer: "root" });
    const child = root.child({ layer: "bus", capsule: "x" });
    root.log("info", "boot");
    child.log("warn", "slow", { capsule: "y", ms: 5 });
    child.child({ depth: 2 }).log("error", "failed");
    assert.deepEqual(root.records, [
      {
        level: "info",
        message: "boot",
        fields: { app: "astrid", layer: "root" },
      },
      {
        level: "warn",
        message: "slow",
        fields: { app: "astrid", layer: "bus", capsule: "y", ms: 5 },
      },
      {
        level: "error",
        message: "failed",
        fields: { app: "astrid", layer: "bus", capsule: "x", depth: 2 },
      },
    ]);
    assert.deepEqual(child.messages("warn"), ["slow"]);
    child.clear();
    assert.equal(root.records.length, 0);
  },
});
