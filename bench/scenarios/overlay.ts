/**
 * The session overlay against direct file access, 4 KiB files: read of a
 * workspace (lower) file and of an overlay (upper) file vs `Deno.readFile`;
 * rewrite of a path already in the overlay vs `Deno.writeFile` over an
 * existing file; first write of a new path (journaled) vs `Deno.writeFile` of
 * a new file. Target (issue 12): ≤ 1.5× each. No store is involved (the
 * overlay's journal is a file in its directory).
 *
 * @module
 */
import type { Row } from "../_interleave.ts";
import { interleave, ratioRow } from "../_interleave.ts";
import type { PrincipalId, SessionId } from "../../kernel/core/ids.ts";
import { createDenoFs } from "../../kernel/host/deno_fs.ts";
import { Overlay } from "../../kernel/vfs/overlay.ts";
import type { ScenarioOptions } from "./_scenario.ts";

/** @see the module doc. */
export default async function overlay(o: ScenarioOptions): Promise<Row[]> {
  const ws = `${o.dir}/ws`;
  await Deno.mkdir(`${ws}/src/lib`, { recursive: true });
  const data = new Uint8Array(4096).map((_, i) => 97 + (i % 26));
  await Deno.writeFile(`${ws}/src/lib/lower.txt`, data);
  await Deno.writeFile(`${ws}/src/lib/direct.txt`, data);
  const unused = () => Promise.reject(new Error("the bench never commits"));
  const ov = await Overlay.open(
    { fs: createDenoFs(), gate: { decide: unused }, audit: { append: unused } },
    {
      workspace: ws,
      dir: `${o.dir}/overlay`,
      principal: "default" as PrincipalId,
      session: "00000000-0000-4000-8000-00000000be9c" as SessionId,
    },
  );
  await ov.writeFile("src/lib/upper.txt", data);
  let fresh = 0;
  let freshOv = 0;
  const t = await interleave(
    {
      directRead: () => Deno.readFile(`${ws}/src/lib/direct.txt`),
      readLower: () => ov.readFile("src/lib/lower.txt"),
      readUpper: () => ov.readFile("src/lib/upper.txt"),
      directRewrite: () => Deno.writeFile(`${ws}/src/lib/direct.txt`, data),
      rewrite: () => ov.writeFile("src/lib/upper.txt", data),
      directNew: () => Deno.writeFile(`${ws}/src/lib/new-${fresh++}.txt`, data),
      firstWrite: () => ov.writeFile(`src/lib/o-new-${freshOv++}.txt`, data),
    },
    o.quick ? { rounds: 3, iterations: 30, warmup: 10 } : {
      rounds: 15,
      iterations: 200,
      warmup: 1_000,
    },
  );
  const target = { op: "<=", value: 1.5 } as const;
  return [
    ratioRow(
      "overlay read 4 KiB, lower file / direct",
      t.readLower!,
      t.directRead!,
      { target },
    ),
    ratioRow(
      "overlay read 4 KiB, upper file / direct",
      t.readUpper!,
      t.directRead!,
      { target },
    ),
    ratioRow("overlay rewrite 4 KiB / direct", t.rewrite!, t.directRewrite!, {
      target,
    }),
    ratioRow(
      "overlay first write 4 KiB / direct new file",
      t.firstWrite!,
      t.directNew!,
      { target },
    ),
  ];
}
