import assert from "node:assert/strict";
import * as path from "node:path";
import { createDenoFs } from "../host/mod.ts";
import {
  BWRAP_CACHE_FILE,
  BWRAP_CACHE_MAX_AGE_MS,
  cachedBubblewrap,
} from "./bwrap_probe_cache.ts";

const fs = createDenoFs();

/** A temp `var/` and a stand-in binary; `probe` counts its runs. */
async function setup(answer: "bin" | null = "bin") {
  const dir = await Deno.makeTempDir({ prefix: "bwrap-cache-" });
  const varDir = path.join(dir, "var");
  await Deno.mkdir(varDir);
  const bin = path.join(dir, "bwrap");
  await Deno.writeTextFile(bin, "#!/bin/sh\n");
  let now = 1_000_000;
  const t = {
    dir,
    varDir,
    bin,
    probes: 0,
    clock: { now: () => now },
    advance: (ms: number) => (now += ms),
    deps: () => ({
      fs,
      clock: t.clock,
      varDir,
      candidates: [bin],
      probe: () => {
        t.probes++;
        return Promise.resolve(answer === "bin" ? bin : null);
      },
    }),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
  return t;
}

Deno.test("cachedBubblewrap probes once, then answers from var/ while the binary is unchanged", async () => {
  await using t = await setup();
  assert.equal(await cachedBubblewrap(t.deps()), t.bin);
  assert.equal(await cachedBubblewrap(t.deps()), t.bin);
  assert.equal(t.probes, 1);
  const info = await Deno.stat(path.join(t.varDir, BWRAP_CACHE_FILE));
  assert.equal(info.mode! & 0o777, 0o600);
});

Deno.test("cachedBubblewrap probes again when the binary's size or mtime changed (an upgrade or a replacement)", async () => {
  await using t = await setup();
  await cachedBubblewrap(t.deps());
  await Deno.writeTextFile(t.bin, "#!/bin/sh\n# another build\n");
  await cachedBubblewrap(t.deps());
  assert.equal(t.probes, 2);
  await Deno.utime(t.bin, new Date(2001, 1, 1), new Date(2001, 1, 1));
  await cachedBubblewrap(t.deps());
  assert.equal(t.probes, 3);
});

Deno.test("cachedBubblewrap probes again when the binary is gone or the answer is older than a day", async () => {
  await using t = await setup();
  await cachedBubblewrap(t.deps());
  t.advance(BWRAP_CACHE_MAX_AGE_MS + 1);
  await cachedBubblewrap(t.deps());
  assert.equal(t.probes, 2);
  await Deno.remove(t.bin);
  await cachedBubblewrap(t.deps());
  assert.equal(t.probes, 3);
});

Deno.test("cachedBubblewrap never remembers 'not usable' (with allow_unsandboxed_spawn a stale null would run processes unconfined)", async () => {
  await using t = await setup(null);
  assert.equal(await cachedBubblewrap(t.deps()), null);
  assert.equal(await cachedBubblewrap(t.deps()), null);
  assert.equal(t.probes, 2);
  assert.equal(
    await Deno.stat(path.join(t.varDir, BWRAP_CACHE_FILE)).catch(() => null),
    null,
  );
});

Deno.test("cachedBubblewrap ignores a planted cache naming a path that is not a bubblewrap candidate, and a malformed one", async () => {
  await using t = await setup();
  const file = path.join(t.varDir, BWRAP_CACHE_FILE);
  const sh = await Deno.stat("/bin/sh");
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      v: 1,
      path: "/bin/sh",
      size: sh.size,
      mtime_ms: sh.mtime!.getTime(),
      probed_at: t.clock.now(),
    }),
  );
  assert.equal(await cachedBubblewrap(t.deps()), t.bin);
  assert.equal(t.probes, 1);
  await Deno.writeTextFile(file, "{not json");
  assert.equal(await cachedBubblewrap(t.deps()), t.bin);
  assert.equal(t.probes, 2);
});

Deno.test("cachedBubblewrap still answers when var/ cannot be written (the cache is best effort)", async () => {
  await using t = await setup();
  await Deno.remove(t.varDir);
  assert.equal(await cachedBubblewrap(t.deps()), t.bin);
  assert.equal(await cachedBubblewrap(t.deps()), t.bin);
  assert.equal(t.probes, 2);
});
