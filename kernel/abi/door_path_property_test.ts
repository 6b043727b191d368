/**
 * Property test of the one path mapper (issue 11, finding 1): generated guest
 * paths — scheme case variants, Unicode (fullwidth, combining, bidi),
 * percent-encodings, `..`, `.`, repeated slashes, backslashes, NUL, very
 * long — go through the real dispatcher (real gate, real session VFS on
 * disk). For every call, the gate's view (the path in its decision entry)
 * must be exactly where the bytes landed on disk (the effect's view), and a
 * refused call must leave no byte anywhere.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import type { PrincipalId } from "../core/ids.ts";
import { KernelError } from "../core/errors.ts";
import { makeAbi } from "./_abi_fixture_test.ts";

const P = { read: true, write: true, env: true } as const;
const SEED = 0x5eed_d00d;
const CASES = 300;

/** mulberry32: a small seeded PRNG, so a failure replays exactly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generator(workspace: string) {
  const next = prng(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const starts = [
    "",
    "cwd://",
    "CWD://",
    "Cwd://",
    "home://",
    "HOME://",
    "hOmE://",
    "ｈｏｍｅ://",
    "home:/",
    "home:",
    "file://",
    "cwd:\\\\",
    "/",
    "/tmp/",
    "/TMP/",
    "//tmp//",
    `${workspace}/`,
    `${workspace}//`,
    "/etc/",
    "./",
    "../",
  ];
  const parts = [
    "a",
    "b.txt",
    "notes",
    ".local",
    "capsules",
    "..",
    ".",
    "",
    "ﬁle",
    "e\u0301",
    "é",
    "\u202etxt.exe",
    "%2e%2e",
    "%2F",
    "..%2f",
    "a\\b",
    "..\\..",
    "~",
    " ",
    "CON",
    "x".repeat(255),
    "y".repeat(256),
  ];
  const seps = ["/", "/", "/", "//", "\\", "/./"];
  return (): string => {
    let p = pick(starts);
    const n = 1 + Math.floor(next() * 5);
    for (let i = 0; i < n; i++) p += (i === 0 ? "" : pick(seps)) + pick(parts);
    if (next() < 0.03) p += "\0x";
    if (next() < 0.02) p += "/z".repeat(2100);
    return p;
  };
}

async function filesUnder(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string) {
    for await (const e of Deno.readDir(dir)) {
      const p = path.join(dir, e.name);
      if (e.isDirectory) await walk(p);
      else if (e.isFile) out.push(p);
    }
  }
  await walk(root);
  return out;
}

Deno.test({
  name:
    "fs_write: for generated guest paths the gate judges exactly the host location the bytes land in, or nothing lands",
  permissions: P,
  async fn() {
    const f = await makeAbi({
      grants: { fs: { fs_read: ["/"], fs_write: ["/"] } },
    });
    try {
      await f.vfs(); // opens the session overlay under the principal home
      const overlays = path.join(f.home, ".local", "overlay");
      const [session] = await Array.fromAsync(Deno.readDir(overlays));
      const overlayUpper = path.join(overlays, session!.name, "upper");
      const next = generator(f.workspace);
      const effects: ({ landed: string } | { refused: string })[] = [];
      const guests: string[] = [];
      for (let i = 0; i < CASES; i++) {
        const guest = next();
        guests.push(guest);
        const token = `token-${i}`;
        try {
          await f.call("fs_write", { path: guest, content: token });
        } catch (err) {
          if (!KernelError.is(err)) throw err;
          effects.push({ refused: err.code });
          continue;
        }
        const hits: string[] = [];
        for (const file of await filesUnder(f.home)) {
          if (await Deno.readTextFile(file) !== token) continue;
          hits.push(
            file.startsWith(`${overlayUpper}/`)
              ? path.join(f.workspace, file.slice(overlayUpper.length + 1))
              : file,
          );
        }
        assert.deepEqual(
          await filesUnder(f.workspace),
          [],
          "no write reaches the real workspace",
        );
        assert.equal(hits.length, 1, `${JSON.stringify(guest)} → ${hits}`);
        effects.push({ landed: hits[0]! });
        await f.call("fs_unlink", { path: guest });
      }
      await f.gate.flush();
      const decisions = (await f.audit.query({
        principal: "default" as PrincipalId,
      })).filter((e) =>
        e.decision !== "info" &&
        (e.action as { mode?: string }).mode === "write"
      );
      // Every call that got past payload validation has exactly one decision.
      let d = 0;
      const kinds = { landed: 0, refused: 0 };
      for (const [i, effect] of effects.entries()) {
        const guest = JSON.stringify(guests[i]);
        if ("refused" in effect) {
          kinds.refused++;
          if (
            effect.refused === "INVALID_INPUT" ||
            effect.refused === "ABI_PAYLOAD_TOO_LARGE"
          ) continue; // refused by payload validation, before any view
          const entry = decisions[d++]!;
          const proof = entry.proof as { layer?: string; code?: string };
          if (entry.decision === "denied" && proof.layer === "path") {
            assert.equal(proof.code, effect.refused, guest);
          }
          continue;
        }
        kinds.landed++;
        const entry = decisions[d++]!;
        assert.equal(entry.decision, "allowed", guest);
        assert.equal(
          (entry.action as { path: string }).path,
          effect.landed,
          `the gate's view of ${guest} is where it landed`,
        );
      }
      assert.equal(d, decisions.length);
      // The generator must exercise both sides.
      assert.ok(kinds.landed > 50 && kinds.refused > 50, JSON.stringify(kinds));
    } finally {
      await f.dispose();
    }
  },
});
