import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { createDenoFs } from "../host/mod.ts";
import { MemoryEnv } from "../testing/memory_env.ts";
import { openKernelStore } from "./open_store.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("without store.url the kernel's store is the Deno KV file, as before", async () => {
  await withDir(async (dir) => {
    const options = {
      url: "",
      inMemory: false,
      stateKv: `${dir}/state.kv`,
      passwordFile: `${dir}/store.password`,
      env: new MemoryEnv({}),
      fs: createDenoFs(),
    };
    {
      await using store = await openKernelStore(options);
      await store.set(["ns", "k"], 1);
    }
    await Deno.stat(`${dir}/state.kv`);
    await using again = await openKernelStore(options);
    assert.equal((await again.get(["ns", "k"]))?.value, 1);
  });
});

Deno.test("an in-memory kernel ignores store.url and opens no database", async () => {
  await withDir(async (dir) => {
    await using store = await openKernelStore({
      url: "postgres://astrid@localhost:1/none",
      inMemory: true,
      stateKv: `${dir}/state.kv`,
      passwordFile: `${dir}/store.password`,
      env: new MemoryEnv({}),
      fs: createDenoFs(),
    });
    await store.set(["ns", "k"], 1);
    await assert.rejects(Deno.stat(`${dir}/state.kv`), Deno.errors.NotFound);
  });
});

Deno.test("an unreachable PostgreSQL fails the boot with STORE_UNAVAILABLE naming no secret", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/store.password`, "hunter2\n");
    await assert.rejects(
      () =>
        openKernelStore({
          url: "postgres://astrid@127.0.0.1:1/astrid",
          inMemory: false,
          stateKv: `${dir}/state.kv`,
          passwordFile: `${dir}/store.password`,
          env: new MemoryEnv({}),
          fs: createDenoFs(),
        }),
      (e: unknown) =>
        KernelError.is(e, "STORE_UNAVAILABLE") &&
        /connection failed \(ECONNREFUSED\)/.test(e.message) &&
        !e.message.includes("hunter2") && !e.message.includes(dir),
    );
  });
});
