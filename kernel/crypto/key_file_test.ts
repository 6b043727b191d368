import assert from "node:assert/strict";
import { join } from "node:path";
import { KernelError } from "../core/errors.ts";
import type { FileInfo, FileSystem, Random } from "../core/ports.ts";
import {
  KEY_FILE_MODE,
  loadKeyFile,
  loadOrCreateKeyFile,
  RUNTIME_KEY_FILE,
  saveKeyFile,
} from "./key_file.ts";
import { keyPairFromSeed } from "./key_pair.ts";

const RW = { read: true, write: true } as const;
const SEED = Uint8Array.from({ length: 32 }, (_, i) => 100 + i);
const PAIR = keyPairFromSeed(SEED);
const RANDOM: Random = {
  bytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
};

/** A tiny real-disk FileSystem port for these tests, mapping errors as the port requires. */
function diskFs(): FileSystem {
  async function io<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        throw new KernelError("NOT_FOUND", String(err), { cause: err });
      }
      throw new KernelError("HOST_IO", String(err), { cause: err });
    }
  }
  function info(i: Deno.FileInfo): FileInfo {
    return {
      isFile: i.isFile,
      isDirectory: i.isDirectory,
      isSymlink: i.isSymlink,
      size: i.size,
      mode: i.mode === null ? null : i.mode & 0o777,
      mtimeMs: i.mtime?.getTime() ?? null,
    };
  }
  async function statOrNull(
    op: () => Promise<Deno.FileInfo>,
  ): Promise<FileInfo | null> {
    try {
      return info(await op());
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw new KernelError("HOST_IO", String(err), { cause: err });
    }
  }
  return {
    readFile: (p, o) => io(() => Deno.readFile(p, o)),
    readTextFile: (p, o) => io(() => Deno.readTextFile(p, o)),
    writeFile: (p, d, o = {}) =>
      io(() =>
        Deno.writeFile(
          p,
          typeof d === "string" ? new TextEncoder().encode(d) : d,
          {
            ...(o.mode === undefined ? {} : { mode: o.mode }),
            ...(o.createNew ? { createNew: true } : {}),
            ...(o.signal === undefined ? {} : { signal: o.signal }),
          },
        )
      ),
    stat: (p) => statOrNull(() => Deno.stat(p)),
    lstat: (p) => statOrNull(() => Deno.lstat(p)),
    mkdir: (p, o) => io(() => Deno.mkdir(p, o)),
    chmod: (p, m) => io(() => Deno.chmod(p, m)),
    remove: (p, o) => io(() => Deno.remove(p, o)),
    rename: (a, b) => io(() => Deno.rename(a, b)),
    readDir: (p) => io(async () => await Array.fromAsync(Deno.readDir(p))),
    realPath: (p) => io(() => Deno.realPath(p)),
    readLink: (p) => io(() => Deno.readLink(p)),
  };
}

async function withTempDir(
  fn: (dir: string, fs: FileSystem) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "astrid-key-file-" });
  try {
    await fn(dir, diskFs());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function writeRaw(
  path: string,
  bytes: Uint8Array,
  mode: number,
): Promise<void> {
  await Deno.writeFile(path, bytes, { mode });
  await Deno.chmod(path, mode);
}

Deno.test({
  name:
    "`saveKeyFile()` writes the raw 32-byte seed with mode 0600 and `loadKeyFile()` reads it back",
  permissions: RW,
  async fn() {
    await withTempDir(async (dir, fs) => {
      const path = join(dir, "runtime.key");
      await saveKeyFile(path, PAIR, { fs, random: RANDOM });
      assert.deepEqual(await Deno.readFile(path), SEED);
      assert.equal((await Deno.stat(path)).mode! & 0o777, KEY_FILE_MODE);
      const loaded = await loadKeyFile(path, { fs });
      assert.deepEqual(loaded.publicKey, PAIR.publicKey);
      assert.equal(loaded.keyId, PAIR.keyId);
      // No temporary file is left behind.
      assert.deepEqual(
        (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name),
        ["runtime.key"],
      );
    });
  },
});

for (const mode of [0o644, 0o640, 0o604, 0o660, 0o606, 0o610]) {
  const shown = `0${mode.toString(8)}`;
  Deno.test({
    name:
      `\`loadKeyFile()\` refuses a key file with mode ${shown} and says how to fix it`,
    permissions: RW,
    async fn() {
      await withTempDir(async (dir, fs) => {
        const path = join(dir, "runtime.key");
        await writeRaw(path, SEED, mode);
        await assert.rejects(() => loadKeyFile(path, { fs }), (err) => {
          assert.ok(KernelError.is(err, "KEY_PERMISSIONS_TOO_OPEN"));
          assert.match(err.message, /'runtime\.key'/);
          assert.ok(err.message.includes(`mode ${shown}`), err.message);
          assert.ok(err.message.includes(`chmod 600 ${path}`), err.message);
          assert.deepEqual(err.data, { file: "runtime.key", mode: shown });
          return true;
        });
      });
    },
  });
}

Deno.test({
  name: "`loadKeyFile()` accepts mode 0400 (owner-only, read-only)",
  permissions: RW,
  async fn() {
    await withTempDir(async (dir, fs) => {
      const path = join(dir, "runtime.key");
      await writeRaw(path, SEED, 0o400);
      assert.equal((await loadKeyFile(path, { fs })).keyId, PAIR.keyId);
    });
  },
});

for (const length of [0, 31, 33, 64]) {
  Deno.test({
    name:
      `\`loadKeyFile()\` refuses a ${length}-byte key file with KEY_INVALID`,
    permissions: RW,
    async fn() {
      await withTempDir(async (dir, fs) => {
        const path = join(dir, "runtime.key");
        await writeRaw(path, new Uint8Array(length).fill(7), 0o600);
        await assert.rejects(
          () => loadKeyFile(path, { fs }),
          (err) =>
            KernelError.is(err, "KEY_INVALID") &&
            err.message.includes(`expected 32 bytes, got ${length}`) &&
            err.message.includes("'runtime.key'"),
        );
      });
    },
  });
}

Deno.test({
  name: "`loadKeyFile()` refuses a missing key file with KEY_NOT_FOUND",
  permissions: RW,
  async fn() {
    await withTempDir(async (dir, fs) => {
      await assert.rejects(
        () => loadKeyFile(join(dir, "runtime.key"), { fs }),
        (err) =>
          KernelError.is(err, "KEY_NOT_FOUND") &&
          err.message.includes("'runtime.key'"),
      );
    });
  },
});

Deno.test({
  name: "`loadKeyFile()` refuses a symlink, even to a valid 0600 key file",
  permissions: RW,
  async fn() {
    await withTempDir(async (dir, fs) => {
      const elsewhere = join(dir, "attacker.key");
      await writeRaw(elsewhere, new Uint8Array(32).fill(0xee), 0o600);
      const path = join(dir, "runtime.key");
      await Deno.symlink(elsewhere, path);
      await assert.rejects(
        () => loadKeyFile(path, { fs }),
        (err) =>
          KernelError.is(err, "KEY_INVALID") &&
          err.message.includes("not a regular file"),
      );
    });
  },
});

Deno.test({
  name: "`loadKeyFile()` refuses a directory",
  permissions: RW,
  async fn() {
    await withTempDir(async (dir, fs) => {
      await Deno.mkdir(join(dir, "runtime.key"));
      await assert.rejects(
        () => loadKeyFile(join(dir, "runtime.key"), { fs }),
        (err) => KernelError.is(err, "KEY_INVALID"),
      );
    });
  },
});

Deno.test({
  name:
    "`saveKeyFile()` refuses to replace an existing key unless `overwrite` is set",
  permissions: RW,
  async fn() {
    await withTempDir(async (dir, fs) => {
      const path = join(dir, "runtime.key");
      const other = keyPairFromSeed(new Uint8Array(32).fill(1));
      await saveKeyFile(path, PAIR, { fs, random: RANDOM });
      await assert.rejects(
        () => saveKeyFile(path, other, { fs, random: RANDOM }),
        (err) =>
          KernelError.is(err, "KEY_EXISTS") &&
          err.message.includes("'runtime.key'"),
      );
      assert.deepEqual(await Deno.readFile(path), SEED);
      await saveKeyFile(path, other, { fs, random: RANDOM, overwrite: true });
      assert.equal((await loadKeyFile(path, { fs })).keyId, other.keyId);
      assert.equal((await Deno.stat(path)).mode! & 0o777, KEY_FILE_MODE);
    });
  },
});

Deno.test({
  name:
    "`saveKeyFile()` does not write through a symlink planted at its temporary name",
  permissions: RW,
  async fn() {
    await withTempDir(async (dir, fs) => {
      const zeros: Random = { bytes: (n) => new Uint8Array(n) };
      const path = join(dir, "runtime.key");
      const leak = join(dir, "world-readable.txt");
      await writeRaw(leak, new Uint8Array(0), 0o644);
      await Deno.symlink(leak, join(dir, `.runtime.key.${"00".repeat(8)}.tmp`));
      await assert.rejects(
        () => saveKeyFile(path, PAIR, { fs, random: zeros }),
        (err) => KernelError.is(err, "HOST_IO"),
      );
      assert.equal((await Deno.readFile(leak)).length, 0);
      assert.equal(await fs.lstat(path), null);
    });
  },
});

Deno.test({
  name:
    "`saveKeyFile()` and `loadKeyFile()` throw ABORTED for an aborted signal",
  permissions: RW,
  async fn() {
    await withTempDir(async (dir, fs) => {
      const signal = AbortSignal.abort();
      const path = join(dir, "runtime.key");
      await assert.rejects(
        () => saveKeyFile(path, PAIR, { fs, random: RANDOM, signal }),
        (err) => KernelError.is(err, "ABORTED"),
      );
      assert.equal(await fs.lstat(path), null);
      await saveKeyFile(path, PAIR, { fs, random: RANDOM });
      await assert.rejects(
        () => loadKeyFile(path, { fs, signal }),
        (err) => KernelError.is(err, "ABORTED"),
      );
    });
  },
});

Deno.test({
  name:
    "`loadOrCreateKeyFile()` creates keys/runtime.key (0600 in a 0700 dir) once, then reloads it",
  permissions: RW,
  async fn() {
    await withTempDir(async (home, fs) => {
      const path = join(home, RUNTIME_KEY_FILE);
      const first = await loadOrCreateKeyFile(path, { fs, random: RANDOM });
      assert.equal(first.created, true);
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
      assert.equal((await Deno.stat(join(home, "keys"))).mode! & 0o077, 0);
      const second = await loadOrCreateKeyFile(path, { fs, random: RANDOM });
      assert.equal(second.created, false);
      assert.deepEqual(second.keyPair.publicKey, first.keyPair.publicKey);
    });
  },
});

Deno.test({
  name:
    "`loadOrCreateKeyFile()` never replaces an existing key file it refuses",
  permissions: RW,
  async fn() {
    await withTempDir(async (dir, fs) => {
      const path = join(dir, "runtime.key");
      await writeRaw(path, SEED, 0o644);
      await assert.rejects(
        () => loadOrCreateKeyFile(path, { fs, random: RANDOM }),
        (err) => KernelError.is(err, "KEY_PERMISSIONS_TOO_OPEN"),
      );
      await Deno.chmod(path, 0o600);
      await Deno.writeFile(path, SEED.subarray(0, 31));
      await assert.rejects(
        () => loadOrCreateKeyFile(path, { fs, random: RANDOM }),
        (err) => KernelError.is(err, "KEY_INVALID"),
      );
      assert.deepEqual(await Deno.readFile(path), SEED.subarray(0, 31));
    });
  },
});
