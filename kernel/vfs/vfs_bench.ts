/**
 * Overhead of the overlay for 4 KiB files versus direct Deno file access
 * (target: at most 1.5× for reads and rewrites).
 *
 * Run: deno bench --allow-read --allow-write kernel/vfs/vfs_bench.ts
 */
import type { PrincipalId, SessionId } from "../core/ids.ts";
import { createDenoFs } from "../host/deno_fs.ts";
import { Overlay } from "./overlay.ts";

const root = await Deno.realPath(
  await Deno.makeTempDir({ prefix: "astrid_vfs_bench_" }),
);
const ws = `${root}/ws`;
await Deno.mkdir(`${ws}/src/lib`, { recursive: true });
const data = new Uint8Array(4096).map((_, i) => 97 + (i % 26));
await Deno.writeFile(`${ws}/src/lib/lower.txt`, data);
await Deno.writeFile(`${ws}/src/lib/direct.txt`, data);

const unused = () => Promise.reject(new Error("the bench never commits"));
const overlay = await Overlay.open(
  { fs: createDenoFs(), gate: { decide: unused }, audit: { append: unused } },
  {
    workspace: ws,
    dir: `${root}/overlay`,
    principal: "default" as PrincipalId,
    session: "00000000-0000-4000-8000-00000000be9c" as SessionId,
  },
);
await overlay.writeFile("src/lib/upper.txt", data);
let fresh = 0;

globalThis.addEventListener("unload", () => {
  Deno.removeSync(root, { recursive: true });
});

Deno.bench("direct Deno.readFile 4 KiB", {
  group: "read 4 KiB",
  baseline: true,
}, async () => {
  await Deno.readFile(`${ws}/src/lib/direct.txt`);
});

Deno.bench("overlay readFile, workspace (lower) file", {
  group: "read 4 KiB",
}, async () => {
  await overlay.readFile("src/lib/lower.txt");
});

Deno.bench("overlay readFile, overlay (upper) file", {
  group: "read 4 KiB",
}, async () => {
  await overlay.readFile("src/lib/upper.txt");
});

Deno.bench("direct Deno.writeFile 4 KiB", {
  group: "rewrite 4 KiB",
  baseline: true,
}, async () => {
  await Deno.writeFile(`${ws}/src/lib/direct.txt`, data);
});

Deno.bench("overlay writeFile, path already in the overlay", {
  group: "rewrite 4 KiB",
}, async () => {
  await overlay.writeFile("src/lib/upper.txt", data);
});

Deno.bench("direct Deno.writeFile 4 KiB, new file", {
  group: "first write 4 KiB",
  baseline: true,
}, async () => {
  await Deno.writeFile(`${ws}/src/lib/new-${fresh++}.txt`, data);
});

Deno.bench("overlay writeFile, new path (records it in the journal)", {
  group: "first write 4 KiB",
}, async () => {
  await overlay.writeFile(`src/lib/o-new-${fresh++}.txt`, data);
});
