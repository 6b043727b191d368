import assert from "node:assert/strict";
import { KernelError } from "./errors.ts";
import {
  claimSocketSlot,
  SOCKET_SLOTS,
  socketSlotPaths,
} from "./socket_slots.ts";

Deno.test("claimSocketSlot: claims the first free slot, skips ones in use elsewhere, and frees on release", async () => {
  const dir = "/slots-test-a";
  const a = await claimSocketSlot(dir, "fetch", (p) => Promise.resolve(p));
  assert.equal(a.path, `${dir}/f-0.sock`);
  const b = await claimSocketSlot(
    dir,
    "fetch",
    (p) => Promise.resolve(p.endsWith("/f-1.sock") ? null : p),
  );
  assert.equal(b.path, `${dir}/f-2.sock`);
  a.release();
  const c = await claimSocketSlot(dir, "fetch", (p) => Promise.resolve(p));
  assert.equal(c.path, `${dir}/f-0.sock`);
  b.release();
  c.release();
});

Deno.test("claimSocketSlot: every slot in use is HOST_IO, and a bind error frees the slot", async () => {
  const dir = "/slots-test-b";
  await assert.rejects(
    claimSocketSlot(dir, "mcp", () => Promise.resolve(null)),
    (e) => e instanceof KernelError && e.code === "HOST_IO",
  );
  await assert.rejects(
    claimSocketSlot(dir, "mcp", () => Promise.reject(new Error("boom"))),
    /boom/,
  );
  const s = await claimSocketSlot(dir, "mcp", (p) => Promise.resolve(p));
  assert.equal(s.path, `${dir}/mcp-0.sock`);
  s.release();
  assert.equal(socketSlotPaths(dir, "mcp").length, SOCKET_SLOTS.mcp.count);
});
