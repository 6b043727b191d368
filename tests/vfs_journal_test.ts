/**
 * The overlay's metadata journal: first writes append one line instead of
 * rewriting the manifest; a torn last line (a process killed mid-append) is
 * ignored on open, earlier lines are applied and compacted.
 */
import assert from "node:assert/strict";
import type { FileSystem } from "../kernel/core/ports.ts";
import { createDenoFs } from "../kernel/host/deno_fs.ts";
import { Overlay } from "../kernel/vfs/overlay.ts";
import {
  PRINCIPAL,
  rejectsWith,
  RW,
  SESSION,
  text,
  type VfsFixture,
  withVfs,
} from "./vfs_fixture_test.ts";

const test = (name: string, fn: Parameters<typeof withVfs>[0]) =>
  Deno.test({ name, permissions: RW, fn: () => withVfs(fn) });

const journalOf = (fx: VfsFixture) => `${fx.overlayDir()}/journal.jsonl`;
const manifestOf = async (fx: VfsFixture) =>
  JSON.parse(await Deno.readTextFile(`${fx.overlayDir()}/manifest.json`));
const exists = (path: string) => Deno.lstat(path).then(() => true, () => false);

test("`Overlay.writeFile()` records a first write as one journal line, not a manifest rewrite", async (fx) => {
  const o = await fx.reopen();
  const before = await Deno.readTextFile(`${fx.overlayDir()}/manifest.json`);
  await o.writeFile("a/b.txt", "b");
  await o.writeFile("c.txt", "c");
  await o.writeFile("c.txt", "c again");
  const lines = (await Deno.readTextFile(journalOf(fx))).split("\n");
  assert.equal(lines.pop(), "");
  assert.deepEqual(
    lines.map((l) => JSON.parse(l).c.map((c: [string]) => c[0]).sort()),
    [["a", "a/b.txt"], ["c.txt"]],
  );
  assert.equal(
    await Deno.readTextFile(`${fx.overlayDir()}/manifest.json`),
    before,
  );
});

test("`Overlay.open()` ignores a torn last journal line, applies the earlier ones and compacts them", async (fx) => {
  await fx.write("gone.txt", "lower");
  const o = await fx.reopen();
  await o.writeFile("a.txt", "A");
  await o.mkdir("d");
  await o.writeFile("d/b.txt", "B");
  await o.remove("gone.txt");
  await o.writeFile("a.txt", "A2");
  // A process killed mid-append: part of a line, no newline; its upper file
  // may have been written by a concurrent caller already.
  const line = JSON.stringify({
    c: [["torn.txt", { kind: "file", base: { type: "absent" } }]],
  });
  await Deno.writeTextFile(journalOf(fx), line.slice(0, line.length - 7), {
    append: true,
  });
  await Deno.writeTextFile(`${fx.overlayDir()}/upper/torn.txt`, "T");

  const again = await fx.reopen();
  assert.deepEqual(again.dirtyPaths(), ["a.txt", "d", "d/b.txt", "gone.txt"]);
  assert.equal(text(await again.readFile("a.txt")), "A2");
  assert.equal(text(await again.readFile("d/b.txt")), "B");
  assert.equal(await again.exists("gone.txt"), false);
  assert.equal(await again.exists("torn.txt"), false);
  assert.equal(await exists(`${fx.overlayDir()}/upper/torn.txt`), false);
  // Compacted: the manifest holds everything, the journal is gone.
  assert.equal(await exists(journalOf(fx)), false);
  assert.deepEqual(
    Object.keys((await manifestOf(fx)).entries).sort(),
    ["a.txt", "d", "d/b.txt", "gone.txt"],
  );
  // Appends after recovery start a clean journal that a restart also sees.
  await again.writeFile("later.txt", "L");
  const third = await fx.reopen();
  assert.deepEqual(third.dirtyPaths(), [
    "a.txt",
    "d",
    "d/b.txt",
    "gone.txt",
    "later.txt",
  ]);
  assert.equal(text(await third.readFile("later.txt")), "L");
});

test("`Overlay.open()` replays a journal left beside an already compacted manifest without change", async (fx) => {
  const o = await fx.reopen();
  await o.writeFile("a.txt", "A");
  await o.remove("a.txt");
  await o.writeFile("b.txt", "B");
  const journal = await Deno.readTextFile(journalOf(fx));
  await fx.reopen(); // compacts and deletes the journal
  // As if killed after the manifest rename, before the journal was deleted.
  await Deno.writeTextFile(journalOf(fx), journal);
  const again = await fx.reopen();
  assert.deepEqual(again.dirtyPaths(), ["b.txt"]);
  assert.equal(text(await again.readFile("b.txt")), "B");
});

test("`Overlay.open()` refuses a complete journal line that is invalid or climbs out of the workspace", async (fx) => {
  const o = await fx.reopen();
  await o.writeFile("a.txt", "a");
  const path = journalOf(fx);
  const good = await Deno.readTextFile(path);
  await Deno.writeTextFile(path, `${good}{"c":[["x"]]}\n`);
  await rejectsWith(fx.reopen(), "HOST_IO");
  const escape = JSON.stringify({
    c: [["../escape.txt", { kind: "file", base: { type: "absent" } }]],
  });
  await Deno.writeTextFile(path, `${good}${escape}\n`);
  await rejectsWith(fx.reopen(), "HOST_IO");
  await Deno.writeTextFile(path, `not json\n${good}`);
  await rejectsWith(fx.reopen(), "HOST_IO");
});

test("`Overlay.open()` refuses a journal without a manifest", async (fx) => {
  const o = await fx.reopen();
  await o.writeFile("a.txt", "a");
  await Deno.remove(`${fx.overlayDir()}/manifest.json`);
  await rejectsWith(fx.reopen(), "HOST_IO");
});

test("`Overlay.commit()` compacts the journal into the manifest", async (fx) => {
  const o = await fx.reopen();
  await o.writeFile("a.txt", "a");
  await o.writeFile("b.txt", "b");
  await o.commit({ paths: ["a.txt"] });
  assert.equal(await fx.read("a.txt"), "a");
  assert.equal(await exists(journalOf(fx)), false);
  assert.deepEqual(Object.keys((await manifestOf(fx)).entries), ["b.txt"]);
});

test("`Overlay.writeFile()` compacts the journal once it outgrows the manifest", async (fx) => {
  const o = await fx.reopen();
  let compacted = false;
  for (let i = 0; i < 2000 && !compacted; i++) {
    await o.writeFile(`f${i}.txt`, "x");
    compacted = !(await exists(journalOf(fx)));
  }
  assert.ok(compacted, "the journal was compacted");
  const count = Object.keys((await manifestOf(fx)).entries).length;
  assert.ok(count > 100, `the manifest holds ${count} entries`);
  const again = await fx.reopen();
  assert.equal(again.dirtyPaths().length, count);
});

test("`Overlay` without `appendFile` in its file system saves the manifest on every change", async (fx) => {
  const real = createDenoFs();
  const fs: FileSystem = new Proxy(real, {
    get(target, prop) {
      if (prop === "appendFile") return undefined;
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const deps = {
    fs,
    gate: fx.gate.gate,
    audit: fx.gate.audit,
  };
  const opts = {
    workspace: fx.ws,
    dir: fx.overlayDir(),
    principal: PRINCIPAL,
    session: SESSION,
  };
  const o = await Overlay.open(deps, opts);
  await o.writeFile("a.txt", "a");
  assert.equal(await exists(journalOf(fx)), false);
  assert.deepEqual(Object.keys((await manifestOf(fx)).entries), ["a.txt"]);
  const again = await Overlay.open(deps, opts);
  assert.deepEqual(again.dirtyPaths(), ["a.txt"]);
  assert.equal(text(await again.readFile("a.txt")), "a");
});
