import assert from "node:assert/strict";
import { KernelError } from "../../../core/errors.ts";
import { createDenoFs } from "../../../host/deno_fs.ts";
import { createDenoSpawner } from "../../../host/deno_spawner.ts";
import {
  checkGrantedRootsForSymlinkEscape,
  checkImportGraph,
} from "./prelaunch_checks.ts";

const FS_PERMS = { read: true, write: true } as const;
const RUN_PERMS = { read: true, write: true, run: true, env: true } as const;

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(
    p,
    (e: unknown) => e instanceof KernelError && e.code === code,
  );
}

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name:
    "`checkGrantedRootsForSymlinkEscape()` refuses a symlink to /etc inside a granted dir",
  permissions: FS_PERMS,
  async fn() {
    await withTemp(async (dir) => {
      await Deno.mkdir(`${dir}/granted/deep/er`, { recursive: true });
      await Deno.symlink("/etc/passwd", `${dir}/granted/deep/er/pw`);
      await rejectsWith(
        checkGrantedRootsForSymlinkEscape(createDenoFs(), [`${dir}/granted`]),
        "VFS_PATH_ESCAPE",
      );
    });
  },
});

Deno.test({
  name:
    "`checkGrantedRootsForSymlinkEscape()` refuses a symlinked dir leading outside",
  permissions: FS_PERMS,
  async fn() {
    await withTemp(async (dir) => {
      await Deno.mkdir(`${dir}/granted`);
      await Deno.mkdir(`${dir}/outside`);
      await Deno.writeTextFile(`${dir}/outside/secret.txt`, "s");
      await Deno.symlink("../outside", `${dir}/granted/linkdir`);
      await rejectsWith(
        checkGrantedRootsForSymlinkEscape(createDenoFs(), [`${dir}/granted`]),
        "VFS_PATH_ESCAPE",
      );
    });
  },
});

Deno.test({
  name:
    "`checkGrantedRootsForSymlinkEscape()` accepts in-root symlinks and skips missing roots",
  permissions: FS_PERMS,
  async fn() {
    await withTemp(async (dir) => {
      await Deno.mkdir(`${dir}/granted/sub`, { recursive: true });
      await Deno.writeTextFile(`${dir}/granted/sub/a.txt`, "a");
      await Deno.symlink("sub/a.txt", `${dir}/granted/a-link`);
      await Deno.symlink("sub", `${dir}/granted/sub-link`);
      await checkGrantedRootsForSymlinkEscape(createDenoFs(), [
        `${dir}/granted`,
        `${dir}/missing`,
      ]);
    });
  },
});

Deno.test({
  name:
    "`checkGrantedRootsForSymlinkEscape()` refuses a link chain that leaves via an in-root link",
  permissions: FS_PERMS,
  async fn() {
    await withTemp(async (dir) => {
      await Deno.mkdir(`${dir}/granted`);
      await Deno.symlink("/etc", `${dir}/granted/.hidden`);
      await Deno.symlink(".hidden/hostname", `${dir}/granted/ok-looking`);
      await rejectsWith(
        checkGrantedRootsForSymlinkEscape(createDenoFs(), [`${dir}/granted`]),
        "VFS_PATH_ESCAPE",
      );
    });
  },
});

Deno.test({
  name:
    "`checkGrantedRootsForSymlinkEscape()` refuses dangling links and trees past its bounds",
  permissions: FS_PERMS,
  async fn() {
    await withTemp(async (dir) => {
      await Deno.mkdir(`${dir}/g1`);
      await Deno.symlink(`${dir}/not-yet/secret`, `${dir}/g1/later`);
      await rejectsWith(
        checkGrantedRootsForSymlinkEscape(createDenoFs(), [`${dir}/g1`]),
        "VFS_PATH_ESCAPE",
      );
      await Deno.mkdir(`${dir}/g2/a/b/c`, { recursive: true });
      await rejectsWith(
        checkGrantedRootsForSymlinkEscape(createDenoFs(), [`${dir}/g2`], {
          maxDepth: 2,
        }),
        "INVALID_INPUT",
      );
      await rejectsWith(
        checkGrantedRootsForSymlinkEscape(createDenoFs(), [`${dir}/g2`], {
          maxEntries: 2,
        }),
        "INVALID_INPUT",
      );
      await checkGrantedRootsForSymlinkEscape(createDenoFs(), [`${dir}/g2`]);
    });
  },
});

async function graph(dir: string, entry: string): Promise<void> {
  await checkImportGraph(
    { spawner: createDenoSpawner(), fs: createDenoFs() },
    {
      denoPath: Deno.execPath(),
      entry,
      capsuleDir: `${dir}/cap`,
      env: { DENO_DIR: `${dir}/deno-cache` },
    },
  );
}

Deno.test({
  name:
    "`checkImportGraph()` refuses a static text import of a file outside the capsule dir",
  permissions: RUN_PERMS,
  async fn() {
    await withTemp(async (dir) => {
      await Deno.mkdir(`${dir}/cap`);
      await Deno.writeTextFile(`${dir}/outside.txt`, "secret");
      await Deno.writeTextFile(
        `${dir}/cap/main.ts`,
        'import x from "../outside.txt" with { type: "text" };\nconsole.log(x);\n',
      );
      await rejectsWith(graph(dir, `${dir}/cap/main.ts`), "VFS_PATH_ESCAPE");
    });
  },
});

Deno.test({
  name:
    "`checkImportGraph()` refuses a transitive import reaching outside through an in-capsule module",
  permissions: RUN_PERMS,
  async fn() {
    await withTemp(async (dir) => {
      await Deno.mkdir(`${dir}/cap/lib`, { recursive: true });
      await Deno.writeTextFile(`${dir}/evil.ts`, "export const x = 1;\n");
      await Deno.writeTextFile(`${dir}/cap/main.ts`, 'import "./lib/a.ts";\n');
      await Deno.writeTextFile(
        `${dir}/cap/lib/a.ts`,
        'export * from "../../evil.ts";\n',
      );
      await rejectsWith(graph(dir, `${dir}/cap/main.ts`), "VFS_PATH_ESCAPE");
    });
  },
});

Deno.test({
  name:
    "`checkImportGraph()` refuses an in-capsule symlinked module that points outside",
  permissions: RUN_PERMS,
  async fn() {
    await withTemp(async (dir) => {
      await Deno.mkdir(`${dir}/cap`);
      await Deno.writeTextFile(`${dir}/evil.ts`, "export const x = 1;\n");
      await Deno.symlink(`${dir}/evil.ts`, `${dir}/cap/lib.ts`);
      await Deno.writeTextFile(`${dir}/cap/main.ts`, 'import "./lib.ts";\n');
      await rejectsWith(graph(dir, `${dir}/cap/main.ts`), "VFS_PATH_ESCAPE");
    });
  },
});

Deno.test({
  name:
    "`checkImportGraph()` accepts imports and text imports inside the capsule dir",
  permissions: RUN_PERMS,
  async fn() {
    await withTemp(async (dir) => {
      await Deno.mkdir(`${dir}/cap/lib`, { recursive: true });
      await Deno.writeTextFile(`${dir}/cap/lib/data.txt`, "hello");
      await Deno.writeTextFile(`${dir}/cap/lib/a.ts`, "export const a = 1;\n");
      await Deno.writeTextFile(
        `${dir}/cap/main.ts`,
        'import t from "./lib/data.txt" with { type: "text" };\n' +
          'import { a } from "./lib/a.ts";\nimport "node:path";\n' +
          "console.log(t, a);\n",
      );
      await graph(dir, `${dir}/cap/main.ts`);
    });
  },
});

Deno.test({
  name: "`checkImportGraph()` reports CAPSULE_RESOLVE when deno info fails",
  permissions: RUN_PERMS,
  async fn() {
    await withTemp(async (dir) => {
      await Deno.mkdir(`${dir}/cap`);
      await rejectsWith(graph(dir, `${dir}/cap/nope.ts`), "CAPSULE_RESOLVE");
    });
  },
});
