import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { parsePrincipalId } from "../core/ids.ts";
import { type AstridHome, astridHomePaths } from "./astrid_home.ts";
import { createDenoFs } from "./deno_fs.ts";
import { ensureLayout } from "./ensure_layout.ts";

const RW = { read: true, write: true } as const;
const IS_WINDOWS = Deno.build.os === "windows";

async function withHome(
  fn: (home: AstridHome, tmp: string) => Promise<void>,
): Promise<void> {
  const tmp = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "astrid_layout_" }),
  );
  try {
    await fn(astridHomePaths(`${tmp}/.astrid`), tmp);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

function layoutDirs(home: AstridHome, principal = "default"): string[] {
  const p = home.home(parsePrincipalId(principal));
  return [
    home.root,
    home.etc,
    home.var,
    home.run,
    home.log,
    home.keys,
    home.bin,
    home.lib,
    home.wit,
    home.homes,
    p.root,
    p.local,
    p.capsules,
    p.kv,
    p.log,
    p.audit,
    p.tokens,
    p.tmp,
    p.config,
    p.env,
    p.wit,
  ];
}

async function modeOf(path: string): Promise<number> {
  return (await Deno.lstat(path)).mode! & 0o777;
}

function homeInvalid(e: unknown): boolean {
  assert.ok(
    KernelError.is(e, "HOME_INVALID"),
    `expected HOME_INVALID, got ${String(e)}`,
  );
  return true;
}

Deno.test({
  name:
    "`ensureLayout()` creates every directory with mode exactly 0700 and writes layout-version",
  permissions: RW,
  ignore: IS_WINDOWS,
  fn: () =>
    withHome(async (home) => {
      const report = await ensureLayout(createDenoFs(), home);
      const dirs = layoutDirs(home);
      assert.deepEqual(report.created, dirs);
      for (const dir of dirs) {
        const info = await Deno.lstat(dir);
        assert.deepEqual([dir, info.isDirectory, info.mode! & 0o777], [
          dir,
          true,
          0o700,
        ]);
      }
      assert.equal(await Deno.readTextFile(home.layoutVersion), "1");
      assert.equal(await modeOf(home.layoutVersion), 0o600);
    }),
});

Deno.test({
  name:
    "`ensureLayout()` is idempotent and forces run/ back to 0700 on every call",
  permissions: RW,
  ignore: IS_WINDOWS,
  fn: () =>
    withHome(async (home) => {
      const fs = createDenoFs();
      await ensureLayout(fs, home);
      await Deno.chmod(home.run, 0o755);
      await Deno.chmod(home.log, 0o750);
      const again = await ensureLayout(fs, home);
      assert.deepEqual(again.created, []);
      assert.equal(await modeOf(home.run), 0o700);
      // Other existing directories keep the mode their owner chose.
      assert.equal(await modeOf(home.log), 0o750);
      assert.equal(await Deno.readTextFile(home.layoutVersion), "1");
    }),
});

Deno.test({
  name: "`ensureLayout()` creates the home of the given principal",
  permissions: RW,
  ignore: IS_WINDOWS,
  fn: () =>
    withHome(async (home) => {
      const report = await ensureLayout(createDenoFs(), home, {
        principal: parsePrincipalId("ada"),
      });
      assert.deepEqual(report.created, layoutDirs(home, "ada"));
      assert.equal(
        await Deno.lstat(`${home.homes}/default`).then(() => true, () => false),
        false,
      );
    }),
});

Deno.test({
  name:
    "`ensureLayout()` refuses a symlinked run/ and does not chmod or create through it",
  permissions: RW,
  ignore: IS_WINDOWS,
  fn: () =>
    withHome(async (home, tmp) => {
      await Deno.mkdir(home.root, { mode: 0o700 });
      await Deno.mkdir(`${tmp}/elsewhere`);
      await Deno.chmod(`${tmp}/elsewhere`, 0o755);
      await Deno.symlink(`${tmp}/elsewhere`, home.run);
      await assert.rejects(ensureLayout(createDenoFs(), home), homeInvalid);
      assert.equal(await modeOf(`${tmp}/elsewhere`), 0o755);
      assert.deepEqual(
        await Array.fromAsync(Deno.readDir(`${tmp}/elsewhere`)),
        [],
      );
    }),
});

Deno.test({
  name: "`ensureLayout()` refuses a symlinked or non-directory home root",
  permissions: RW,
  ignore: IS_WINDOWS,
  fn: () =>
    withHome(async (home, tmp) => {
      await Deno.mkdir(`${tmp}/real`);
      await Deno.symlink(`${tmp}/real`, home.root);
      await assert.rejects(ensureLayout(createDenoFs(), home), homeInvalid);
      assert.deepEqual(await Array.fromAsync(Deno.readDir(`${tmp}/real`)), []);
      await Deno.remove(home.root);
      await Deno.writeTextFile(home.root, "not a dir");
      await assert.rejects(ensureLayout(createDenoFs(), home), homeInvalid);
    }),
});

Deno.test({
  name: "`ensureLayout()` refuses a layout directory that is a file",
  permissions: RW,
  ignore: IS_WINDOWS,
  fn: () =>
    withHome(async (home) => {
      await Deno.mkdir(home.root);
      await Deno.writeTextFile(home.keys, "oops");
      await assert.rejects(ensureLayout(createDenoFs(), home), homeInvalid);
    }),
});

Deno.test({
  name:
    "`ensureLayout()` refuses a symlinked layout-version and does not write through it",
  permissions: RW,
  ignore: IS_WINDOWS,
  fn: () =>
    withHome(async (home, tmp) => {
      await Deno.writeTextFile(`${tmp}/victim`, "precious");
      await Deno.mkdir(home.etc, { recursive: true });
      await Deno.symlink(`${tmp}/victim`, home.layoutVersion);
      await assert.rejects(ensureLayout(createDenoFs(), home), homeInvalid);
      assert.equal(await Deno.readTextFile(`${tmp}/victim`), "precious");
    }),
});

Deno.test({
  name:
    "`ensureLayout()` refuses a home whose layout version it does not support",
  permissions: RW,
  ignore: IS_WINDOWS,
  fn: () =>
    withHome(async (home) => {
      await Deno.mkdir(home.etc, { recursive: true });
      await Deno.writeTextFile(home.layoutVersion, "2\n");
      await assert.rejects(ensureLayout(createDenoFs(), home), (e) => {
        homeInvalid(e);
        assert.match((e as Error).message, /layout version is "2"/);
        return true;
      });
      await Deno.writeTextFile(home.layoutVersion, "1\n");
      await ensureLayout(createDenoFs(), home);
    }),
});

Deno.test({
  name: "`ensureLayout()` stops with ABORTED when its signal has fired",
  permissions: RW,
  fn: () =>
    withHome(async (home) => {
      await assert.rejects(
        ensureLayout(createDenoFs(), home, { signal: AbortSignal.abort() }),
        (e) => KernelError.is(e, "ABORTED"),
      );
      assert.equal(
        await Deno.lstat(home.root).then(() => true, () => false),
        false,
      );
    }),
});

Deno.test({
  name:
    "`ensureLayout()` gives 0700 whatever the umask (a process with umask 0277)",
  permissions: { read: true, write: true, run: true },
  ignore: IS_WINDOWS,
  fn: () =>
    withHome(async (home) => {
      const dir = new URL(".", import.meta.url).href;
      const code = `import { astridHomePaths } from "${dir}astrid_home.ts";
        import { createDenoFs } from "${dir}deno_fs.ts";
        import { ensureLayout } from "${dir}ensure_layout.ts";
        await ensureLayout(createDenoFs(), astridHomePaths(${
        JSON.stringify(home.root)
      }));`;
      const out = await new Deno.Command("sh", {
        args: [
          "-c",
          'umask 0277 && exec "$0" eval --no-check "$1"',
          Deno.execPath(),
          code,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      for (const d of layoutDirs(home)) {
        assert.deepEqual([d, await modeOf(d)], [d, 0o700]);
      }
    }),
});
