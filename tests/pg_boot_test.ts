/**
 * `store.url` picks the kernel's store: a kernel booted with a `postgres://`
 * URL keeps its state (its audit chain included) in PostgreSQL; the password
 * comes from the environment or from `ASTRID_HOME/keys/store.password`, and a
 * URL that carries one is refused without echoing it.
 */
import assert from "node:assert/strict";
import { KernelError } from "../kernel/core/errors.ts";
import { startKernel } from "../kernel/daemon/boot.ts";
import { openPg } from "../kernel/host/open_pg.ts";
import { KvStore } from "../kernel/store/kv_store.ts";
import { MemoryEnv } from "../kernel/testing/memory_env.ts";
import { MemoryLogger } from "../kernel/testing/memory_logger.ts";
import { pgTest, startPg } from "./pg_fixture_test.ts";

pgTest(
  "a kernel with store.url keeps its state in PostgreSQL, with the password from the env or ASTRID_HOME/keys",
  async () => {
    await using pg = await startPg();
    const dir = await Deno.makeTempDir();
    try {
      const boot = (extra: Record<string, string>) =>
        startKernel({
          env: new MemoryEnv({
            ASTRID_HOME: dir,
            HOME: dir,
            ASTRID_STORE_URL: pg.url,
            ...extra,
          }),
          ignoreSystemConfig: true,
          logger: new MemoryLogger(),
        });
      {
        await using kernel = await boot({ ASTRID_STORE_PASSWORD: pg.password });
        assert.equal(kernel.config.values.store.url, pg.url);
        await kernel.store.set(["test", "booted"], "env");
      }
      // No Deno KV file was created: the state is in PostgreSQL.
      await assert.rejects(
        Deno.stat(`${dir}/var/state.kv`),
        Deno.errors.NotFound,
      );
      await Deno.writeTextFile(
        `${dir}/keys/store.password`,
        `${pg.password}\n`,
        {
          mode: 0o600,
        },
      );
      {
        await using kernel = await boot({});
        assert.equal(
          (await kernel.store.get(["test", "booted"]))?.value,
          "env",
        );
      }
      await using direct = new KvStore(
        await openPg({ url: pg.url, password: pg.password }),
      );
      assert.equal((await direct.get(["test", "booted"]))?.value, "env");
      const logger = new MemoryLogger();
      await assert.rejects(
        () =>
          startKernel({
            env: new MemoryEnv({
              ASTRID_HOME: dir,
              HOME: dir,
              ASTRID_STORE_URL: pg.url.replace("astrid@", "astrid:hunter2@"),
            }),
            ignoreSystemConfig: true,
            logger,
          }),
        (e: unknown) =>
          KernelError.is(e) && e.code.startsWith("CONFIG") &&
          !JSON.stringify({ m: e.message, d: e.data }).includes("hunter2"),
      );
      assert.ok(!JSON.stringify(logger).includes("hunter2"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
