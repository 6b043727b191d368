/**
 * Benchmarks of `kernel/crypto/`: `deno bench kernel/crypto/`.
 *
 * @module
 */
import { blake3, createBlake3Hasher } from "./blake3.ts";
import { sign, signSync, verify, verifySync } from "./ed25519.ts";
import { keyPairFromSeed } from "./key_pair.ts";

const pair = keyPairFromSeed(Uint8Array.from({ length: 32 }, (_, i) => i));
const publicKey = pair.publicKey;
// About the size of an audit entry hash plus framing.
const message = Uint8Array.from({ length: 256 }, (_, i) => i & 0xff);
const signature = signSync(pair, message);
await pair.signingKey(); // import once, as a long-running daemon does

const kib = Uint8Array.from({ length: 1024 }, (_, i) => i % 251);
const mib = Uint8Array.from({ length: 1 << 20 }, (_, i) => i % 251);
const hasher = await createBlake3Hasher();

Deno.bench({
  name: "ed25519 sign (WebCrypto)",
  group: "ed25519 sign",
  async fn() {
    await sign(pair, message);
  },
});

Deno.bench({
  name: "ed25519 sign (noble)",
  group: "ed25519 sign",
  fn() {
    signSync(pair, message);
  },
});

Deno.bench({
  name: "ed25519 verify (WebCrypto)",
  group: "ed25519 verify",
  async fn() {
    if (!(await verify(publicKey, message, signature))) {
      throw new Error("bad signature");
    }
  },
});

Deno.bench({
  name: "ed25519 verify (noble)",
  group: "ed25519 verify",
  fn() {
    if (!verifySync(publicKey, message, signature)) {
      throw new Error("bad signature");
    }
  },
});

Deno.bench({
  name: "blake3 1 KiB (hash-wasm)",
  group: "blake3 1 KiB",
  fn() {
    hasher.hash(kib);
  },
});

Deno.bench({
  name: "blake3 1 KiB (noble)",
  group: "blake3 1 KiB",
  fn() {
    blake3(kib);
  },
});

Deno.bench({
  name: "blake3 1 MiB (hash-wasm)",
  group: "blake3 1 MiB",
  fn() {
    hasher.hash(mib);
  },
});

Deno.bench({
  name: "blake3 1 MiB (noble)",
  group: "blake3 1 MiB",
  fn() {
    blake3(mib);
  },
});
