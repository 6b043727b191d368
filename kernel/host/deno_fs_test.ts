import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { createDenoFs } from "./deno_fs.ts";

const RW = { read: true, write: true } as const;

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "astrid_fs_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function assertKernelError(
  err: unknown,
  code: string,
  cause?: new (...a: never[]) => Error,
): true {
  assert.ok(
    err instanceof KernelError,
    `expected KernelError, got ${String(err)}`,
  );
  assert.equal(err.code, code);
  if (cause) {
    assert.ok(
      err.cause instanceof cause,
      `expected cause ${cause.name}, got ${String(err.cause)}`,
    );
  }
  return true;
}

Deno.test({
  name:
    "`createDenoFs().readFile()` maps a missing file to NOT_FOUND and keeps the cause",
  permissions: RW,
  fn: () =>
    withTempDir(async (dir) => {
      const fs = createDenoFs();
      await assert.rejects(fs.readFile(`${dir}/missing`), (e) =>
        assertKernelError(e, "NOT_FOUND", Deno.errors.NotFound));
      await assert.rejects(fs.readTextFile(`${dir}/missing`), (e) =>
        assertKernelError(e, "NOT_FOUND"));
      await assert.rejects(fs.remove(`${dir}/missing`), (e) =>
        assertKernelError(e, "NOT_FOUND"));
    }),
});

Deno.test({
  name:
    "`createDenoFs().readFile()` maps a Deno sandbox refusal to HOST_PERMISSION_DENIED",
  permissions: "none",
  async fn() {
    const fs = createDenoFs();
    await assert.rejects(
      fs.readFile("/etc/hostname"),
      (e) =>
        assertKernelError(e, "HOST_PERMISSION_DENIED", Deno.errors.NotCapable),
    );
    await assert.rejects(
      fs.mkdir("/tmp/astrid-never"),
      (e) => assertKernelError(e, "HOST_PERMISSION_DENIED"),
    );
  },
});

Deno.test({
  name:
    "`createDenoFs().readFile()` maps an OS refusal (EACCES) to HOST_PERMISSION_DENIED",
  permissions: RW,
  ignore: Deno.build.os === "windows",
  fn: () =>
    withTempDir(async (dir) => {
      const fs = createDenoFs();
      await fs.writeFile(`${dir}/locked`, "x", { mode: 0o000 });
      const readable = await Deno.readFile(`${dir}/locked`).then(
        () => true,
        () => false,
      );
      // Root bypasses file modes, so there is no EACCES to observe; `_host_error_test.ts`
      // covers the mapping itself.
      if (readable) return;
      await assert.rejects(
        fs.readFile(`${dir}/locked`),
        (e) =>
          assertKernelError(
            e,
            "HOST_PERMISSION_DENIED",
            Deno.errors.PermissionDenied,
          ),
      );
    }),
});

Deno.test({
  name:
    "`createDenoFs().writeFile()` sets exactly the requested mode, regardless of umask",
  permissions: RW,
  ignore: Deno.build.os === "windows",
  fn: () =>
    withTempDir(async (dir) => {
      const fs = createDenoFs();
      await fs.writeFile(`${dir}/a`, "secret", { mode: 0o600 });
      assert.equal((await fs.stat(`${dir}/a`))?.mode, 0o600);
      await fs.writeFile(`${dir}/b`, new Uint8Array([1, 2, 3]), {
        mode: 0o666,
      });
      assert.equal((await fs.stat(`${dir}/b`))?.mode, 0o666);
      assert.deepEqual(
        await fs.readFile(`${dir}/b`),
        new Uint8Array([1, 2, 3]),
      );
    }),
});

Deno.test({
  name:
    "`createDenoFs().writeFile()` with createNew refuses an existing file with HOST_IO",
  permissions: RW,
  fn: () =>
    withTempDir(async (dir) => {
      const fs = createDenoFs();
      await fs.writeFile(`${dir}/a`, "one", { createNew: true });
      await assert.rejects(
        fs.writeFile(`${dir}/a`, "two", { createNew: true }),
        (e) => assertKernelError(e, "HOST_IO", Deno.errors.AlreadyExists),
      );
      assert.equal(await fs.readTextFile(`${dir}/a`), "one");
      await fs.writeFile(`${dir}/a`, "three");
      assert.equal(await fs.readTextFile(`${dir}/a`), "three");
    }),
});

Deno.test({
  name:
    "`createDenoFs().readFile()` rejects with ABORTED when the signal has fired",
  permissions: RW,
  fn: () =>
    withTempDir(async (dir) => {
      const fs = createDenoFs();
      await fs.writeFile(`${dir}/a`, "x");
      const ac = new AbortController();
      ac.abort(new Error("stop"));
      await assert.rejects(
        fs.readFile(`${dir}/a`, { signal: ac.signal }),
        (e) => assertKernelError(e, "ABORTED"),
      );
      await assert.rejects(
        fs.readTextFile(`${dir}/a`, { signal: ac.signal }),
        (e) => assertKernelError(e, "ABORTED"),
      );
      await assert.rejects(
        fs.writeFile(`${dir}/b`, "y", { signal: ac.signal }),
        (e) => assertKernelError(e, "ABORTED"),
      );
      assert.equal(await fs.stat(`${dir}/b`), null);
    }),
});

Deno.test({
  name:
    "`createDenoFs().stat()` returns null for a missing path; `lstat()` sees a symlink that `stat()` follows",
  permissions: RW,
  ignore: Deno.build.os === "windows",
  fn: () =>
    withTempDir(async (dir) => {
      const fs = createDenoFs();
      assert.equal(await fs.stat(`${dir}/none`), null);
      assert.equal(await fs.lstat(`${dir}/none`), null);
      await fs.mkdir(`${dir}/real`, { mode: 0o700 });
      await Deno.symlink(`${dir}/real`, `${dir}/link`);
      const l = await fs.lstat(`${dir}/link`);
      const s = await fs.stat(`${dir}/link`);
      assert.deepEqual([l?.isSymlink, l?.isDirectory], [true, false]);
      assert.deepEqual([s?.isSymlink, s?.isDirectory, s?.isFile], [
        false,
        true,
        false,
      ]);
      assert.equal(await fs.readLink(`${dir}/link`), `${dir}/real`);
      assert.equal(
        await fs.realPath(`${dir}/link`),
        await Deno.realPath(`${dir}/real`),
      );
      assert.equal(typeof s?.mtimeMs, "number");
    }),
});

Deno.test({
  name: "`createDenoFs()` creates, lists, renames and removes directory trees",
  permissions: RW,
  fn: () =>
    withTempDir(async (dir) => {
      const fs = createDenoFs();
      await fs.mkdir(`${dir}/a/b/c`, { recursive: true });
      await assert.rejects(fs.mkdir(`${dir}/a`), (e) =>
        assertKernelError(e, "HOST_IO", Deno.errors.AlreadyExists));
      await fs.writeFile(`${dir}/a/f.txt`, "hi");
      const names = (await fs.readDir(`${dir}/a`)).sort((x, y) =>
        x.name.localeCompare(y.name)
      );
      assert.deepEqual(names, [
        { name: "b", isFile: false, isDirectory: true, isSymlink: false },
        { name: "f.txt", isFile: true, isDirectory: false, isSymlink: false },
      ]);
      await fs.rename(`${dir}/a/f.txt`, `${dir}/a/g.txt`);
      assert.equal((await fs.stat(`${dir}/a/g.txt`))?.size, 2);
      await assert.rejects(fs.readDir(`${dir}/nope`), (e) =>
        assertKernelError(e, "NOT_FOUND"));
      await assert.rejects(fs.remove(`${dir}/a`), (e) =>
        assertKernelError(e, "HOST_IO"));
      await fs.remove(`${dir}/a`, { recursive: true });
      assert.equal(await fs.stat(`${dir}/a`), null);
    }),
});

Deno.test({
  name: "`createDenoFs().chmod()` changes permission bits",
  permissions: RW,
  ignore: Deno.build.os === "windows",
  fn: () =>
    withTempDir(async (dir) => {
      const fs = createDenoFs();
      await fs.mkdir(`${dir}/d`);
      await fs.chmod(`${dir}/d`, 0o750);
      assert.equal((await fs.stat(`${dir}/d`))?.mode, 0o750);
      await assert.rejects(fs.chmod(`${dir}/none`, 0o700), (e) =>
        assertKernelError(e, "NOT_FOUND"));
    }),
});

Deno.test({
  name:
    "`createDenoFs().readFileChecked()` reads through one descriptor and reports its real path",
  permissions: RW,
  ignore: Deno.build.os === "windows",
  fn: () =>
    withTempDir(async (raw) => {
      const fs = createDenoFs();
      const dir = await Deno.realPath(raw);
      await Deno.mkdir(`${dir}/real`);
      await Deno.writeTextFile(`${dir}/real/a.txt`, "hello");
      await Deno.symlink(`${dir}/real`, `${dir}/linkdir`);
      const got = await fs.readFileChecked!(`${dir}/real/a.txt`);
      assert.equal(got.kind, "file");
      if (got.kind !== "file") return;
      assert.equal(new TextDecoder().decode(got.data), "hello");
      assert.equal(got.realPath, `${dir}/real/a.txt`);
      assert.deepEqual([got.info.isFile, got.info.size], [true, 5]);
      const via = await fs.readFileChecked!(`${dir}/linkdir/a.txt`);
      assert.equal(via.kind === "file" && via.realPath, `${dir}/real/a.txt`);
    }),
});

Deno.test({
  name:
    "`createDenoFs().readFileChecked()` refuses a final symlink, a directory, a FIFO and an oversized file without reading them",
  permissions: { read: true, write: true, run: ["mkfifo"] },
  ignore: Deno.build.os === "windows",
  fn: () =>
    withTempDir(async (dir) => {
      const fs = createDenoFs();
      await Deno.writeTextFile(`${dir}/secret`, "outside");
      await Deno.symlink(`${dir}/secret`, `${dir}/link`);
      // Under scoped permissions Deno follows the final symlink despite
      // O_NOFOLLOW; the real path then names the target, never the link.
      const link = await fs.readFileChecked!(`${dir}/link`);
      const real = await Deno.realPath(`${dir}/secret`);
      assert.ok(
        link.kind === "symlink" ||
          (link.kind === "file" && link.realPath === real),
        JSON.stringify(link),
      );
      assert.deepEqual(await fs.readFileChecked!(`${dir}/none`), {
        kind: "missing",
      });
      assert.deepEqual(await fs.readFileChecked!(`${dir}/secret/x`), {
        kind: "missing",
      });
      assert.equal((await fs.readFileChecked!(dir)).kind, "not_file");
      const made = await new Deno.Command("mkfifo", {
        args: [`${dir}/fifo`],
        stdout: "null",
        stderr: "null",
      }).output();
      if (made.success) {
        assert.equal(
          (await fs.readFileChecked!(`${dir}/fifo`)).kind,
          "not_file",
        );
      }
      const big = await fs.readFileChecked!(`${dir}/secret`, { maxBytes: 3 });
      assert.equal(big.kind, "too_large");
    }),
});

Deno.test({
  name:
    "`createDenoFs().readFileChecked()` reads small files of any size whole, stopping at their end",
  permissions: RW,
  fn: () =>
    withTempDir(async (dir) => {
      const fs = createDenoFs();
      for (const size of [0, 1, 1023, 1024, 65_537, 1024 * 1024]) {
        const bytes = new Uint8Array(size).map((_, i) => i % 253);
        await Deno.writeFile(`${dir}/f`, bytes);
        const got = await fs.readFileChecked!(`${dir}/f`);
        assert.equal(got.kind, "file", `size ${size}`);
        assert.deepEqual(
          got.kind === "file" && got.data,
          bytes,
          `size ${size}`,
        );
      }
    }),
});

Deno.test({
  name: "`createDenoFs().readFileChecked()` reads a file over 1 MiB in chunks",
  permissions: RW,
  fn: () =>
    withTempDir(async (dir) => {
      const fs = createDenoFs();
      const bytes = new Uint8Array(3 * 1024 * 1024 + 7).map((_, i) => i % 251);
      await Deno.writeFile(`${dir}/big`, bytes);
      const got = await fs.readFileChecked!(`${dir}/big`);
      assert.equal(got.kind, "file");
      assert.deepEqual(got.kind === "file" && got.data, bytes);
    }),
});

Deno.test({
  name:
    "`createDenoFs().readFileChecked()` maps a Deno sandbox refusal to HOST_PERMISSION_DENIED",
  permissions: "none",
  async fn() {
    const fs = createDenoFs();
    await assert.rejects(
      fs.readFileChecked!("/etc/hostname"),
      (e) => assertKernelError(e, "HOST_PERMISSION_DENIED"),
    );
  },
});

Deno.test({
  name:
    "`createDenoFs().writeFile()` with sync writes the data; createNew never writes through a symlink",
  permissions: RW,
  ignore: Deno.build.os === "windows",
  fn: () =>
    withTempDir(async (dir) => {
      const fs = createDenoFs();
      await fs.writeFile(`${dir}/a`, "durable", { sync: true, mode: 0o640 });
      assert.equal(await fs.readTextFile(`${dir}/a`), "durable");
      assert.equal((await fs.stat(`${dir}/a`))?.mode, 0o640);
      await fs.writeFile(`${dir}/a`, "new", { sync: true });
      assert.equal(await fs.readTextFile(`${dir}/a`), "new");
      await Deno.writeTextFile(`${dir}/target`, "keep");
      await Deno.symlink(`${dir}/target`, `${dir}/trap`);
      await assert.rejects(
        fs.writeFile(`${dir}/trap`, "evil", { createNew: true, sync: true }),
        (e) => assertKernelError(e, "HOST_IO"),
      );
      assert.equal(await Deno.readTextFile(`${dir}/target`), "keep");
    }),
});

Deno.test("`createDenoFs()` writes a small file in one blocking call (done when the call returns) and its non-blocking view writes the same bytes", async () => {
  await withTempDir(async (dir) => {
    const fs = createDenoFs();
    const pending = fs.writeFile(`${dir}/small.txt`, "abc");
    // Blocking small I/O: the file is complete before the promise is awaited.
    // deno-lint-ignore no-sync-fn-in-async-fn -- reads before any await, by design
    assert.equal(Deno.readTextFileSync(`${dir}/small.txt`), "abc");
    await pending;
    const appended = fs.appendFile!(`${dir}/small.txt`, "d");
    // deno-lint-ignore no-sync-fn-in-async-fn -- reads before any await, by design
    assert.equal(Deno.readTextFileSync(`${dir}/small.txt`), "abcd");
    await appended;
    const view = fs.nonBlocking!();
    assert.notEqual(view, fs);
    assert.equal(view.nonBlocking!(), view);
    await view.writeFile(`${dir}/b.txt`, "xyz");
    await view.appendFile!(`${dir}/b.txt`, "!");
    assert.equal(await view.readTextFile(`${dir}/b.txt`), "xyz!");
    assert.equal((await view.lstat(`${dir}/b.txt`))?.size, 4);
    assert.equal(await view.lstat(`${dir}/missing`), null);
    assert.equal(await fs.lstat(`${dir}/missing`), null);
    assert.equal(
      await fs.realPath(`${dir}/b.txt`),
      await view.realPath(`${dir}/b.txt`),
    );
    // The same refusals in both modes.
    for (const f of [fs, view]) {
      await assert.rejects(
        f.writeFile(`${dir}/no/such/dir.txt`, "x"),
        (e) => assertKernelError(e, "NOT_FOUND"),
      );
      await assert.rejects(
        f.writeFile(`${dir}/b.txt`, "x", { createNew: true }),
        (e) => assertKernelError(e, "HOST_IO"),
      );
    }
  });
});
