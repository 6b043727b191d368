import assert from "node:assert/strict";
import { KernelError } from "../../../core/errors.ts";
import {
  loadWasmFixtures,
  WASM_FIXTURE_PERMISSIONS,
} from "../../../../tests/wasm_fixtures.ts";
import { capMemory, readMemoryLimits } from "./cap_memory.ts";

// --- a tiny module builder (enough for memories, imports and one function) ---

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}
function str(s: string): number[] {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
}
function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}
function limits(min: number, max?: number, flags = 0): number[] {
  return max === undefined
    ? [flags, ...uleb(min)]
    : [flags | 1, ...uleb(min), ...uleb(max)];
}
const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** (memory min max?) (func (export "grow") (param i32) (result i32) local.get 0 memory.grow) */
function growModule(memory: number[], imported = false): Uint8Array {
  const type = section(1, [1, 0x60, 1, 0x7f, 1, 0x7f]);
  const imports = imported
    ? section(2, [1, ...str("env"), ...str("mem"), 0x02, ...memory])
    : [];
  const func = section(3, [1, 0]);
  const mem = imported ? [] : section(5, [1, ...memory]);
  const exports = section(7, [1, ...str("grow"), 0x00, 0]);
  const code = section(10, [1, 6, 0, 0x20, 0, 0x40, 0, 0x0b]);
  const custom = section(0, [...str("note"), 1, 2, 3]);
  return new Uint8Array([
    ...HEADER,
    ...type,
    ...imports,
    ...func,
    ...mem,
    ...exports,
    ...code,
    ...custom,
  ]);
}

function grow(wasm: Uint8Array, imports: WebAssembly.Imports = {}) {
  const instance = new WebAssembly.Instance(
    new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>),
    imports,
  );
  return instance.exports.grow as (pages: number) => number;
}

function isCode(code: string) {
  return (err: unknown) => KernelError.is(err, code as never);
}

Deno.test({
  name:
    "`capMemory()` adds the cap to a memory without a maximum; grow past it returns -1",
  permissions: "none",
  fn() {
    const wasm = growModule(limits(1));
    assert.equal(grow(wasm)(1000), 1, "uncapped: a 64 MiB grow succeeds");
    const capped = capMemory(wasm, 16);
    assert.deepEqual(readMemoryLimits(capped), [
      {
        origin: "defined",
        min: 1,
        max: 16,
        memory64: false,
        shared: false,
      },
    ]);
    const g = grow(capped);
    assert.equal(g(16), -1, "1 + 16 pages is above the cap");
    assert.equal(g(15), 1, "up to the cap works");
    assert.equal(g(1), -1);
  },
});

Deno.test({
  name: "`capMemory()` lowers a larger maximum and keeps a smaller one",
  permissions: "none",
  fn() {
    assert.equal(
      readMemoryLimits(capMemory(growModule(limits(2, 65_536)), 1024))[0]?.max,
      1024,
    );
    assert.equal(
      readMemoryLimits(capMemory(growModule(limits(2, 8)), 1024))[0]?.max,
      8,
    );
    assert.equal(
      readMemoryLimits(capMemory(growModule(limits(3, 3)), 3))[0]?.max,
      3,
    );
  },
});

Deno.test({
  name:
    "`capMemory()` re-encodes sizes whose LEB128 grows and keeps other sections byte-exact",
  permissions: "none",
  fn() {
    const wasm = growModule(limits(200)); // min needs 2 bytes, new max 1024 needs 2 more
    const capped = capMemory(wasm, 1024);
    assert.ok(WebAssembly.validate(capped));
    assert.equal(
      capped.length,
      wasm.length + 2,
      "the max adds two LEB128 bytes",
    );
    const custom = (m: Uint8Array) =>
      WebAssembly.Module.customSections(
        new WebAssembly.Module(m as Uint8Array<ArrayBuffer>),
        "note",
      );
    assert.deepEqual(
      new Uint8Array(custom(capped)[0]!),
      new Uint8Array([1, 2, 3]),
    );
    assert.deepEqual(custom(wasm).length, 1);
    assert.equal(grow(capped)(825), -1);
    assert.equal(grow(capped)(824), 200);
  },
});

Deno.test({
  name:
    "`capMemory()` caps an imported memory: an unbounded memory no longer links",
  permissions: "none",
  fn() {
    const wasm = growModule(limits(1), true);
    const unbounded = new WebAssembly.Memory({ initial: 1 });
    assert.equal(grow(wasm, { env: { mem: unbounded } })(1), 1);
    const capped = capMemory(wasm, 4);
    assert.deepEqual(readMemoryLimits(capped)[0], {
      origin: "import",
      min: 1,
      max: 4,
      memory64: false,
      shared: false,
    });
    assert.throws(
      () =>
        grow(capped, { env: { mem: new WebAssembly.Memory({ initial: 1 }) } }),
      WebAssembly.LinkError,
    );
    const bounded = new WebAssembly.Memory({ initial: 1, maximum: 4 });
    const g = grow(capped, { env: { mem: bounded } });
    assert.equal(g(3), 1);
    assert.equal(g(1), -1);
  },
});

Deno.test({
  name: "`capMemory()` keeps the shared flag of a shared memory",
  permissions: "none",
  fn() {
    const capped = capMemory(growModule(limits(1, 100, 0x02)), 10);
    assert.deepEqual(readMemoryLimits(capped)[0], {
      origin: "defined",
      min: 1,
      max: 10,
      memory64: false,
      shared: true,
    });
    assert.ok(WebAssembly.validate(capped));
  },
});

Deno.test({
  name: "`capMemory()` caps a 64-bit memory (memory64) with 64-bit limits",
  permissions: "none",
  fn() {
    const wasm = new Uint8Array([...HEADER, ...section(5, [1, 0x04, 1])]);
    const capped = capMemory(wasm, 1024);
    assert.deepEqual(readMemoryLimits(capped), [
      { origin: "defined", min: 1, max: 1024, memory64: true, shared: false },
    ]);
    assert.ok(WebAssembly.validate(capped));
  },
});

Deno.test({
  name:
    "`capMemory()` refuses a memory whose minimum exceeds the cap, and two memories",
  permissions: "none",
  fn() {
    assert.throws(
      () => capMemory(growModule(limits(17)), 16),
      isCode("CAPSULE_MEMORY"),
    );
    const two = new Uint8Array([
      ...HEADER,
      ...section(2, [1, ...str("env"), ...str("m"), 0x02, ...limits(1)]),
      ...section(5, [1, ...limits(1)]),
    ]);
    assert.equal(readMemoryLimits(two).length, 2);
    assert.throws(() => capMemory(two, 16), isCode("CAPSULE_MEMORY"));
    assert.throws(() => capMemory(growModule(limits(1)), 0), RangeError);
    assert.throws(() => capMemory(growModule(limits(1)), 65_537), RangeError);
  },
});

Deno.test({
  name:
    "`capMemory()` rejects non-modules, component binaries and custom page sizes with INVALID_INPUT",
  permissions: "none",
  fn() {
    assert.throws(
      () => capMemory(new Uint8Array([1, 2, 3]), 16),
      isCode("INVALID_INPUT"),
    );
    const component = new Uint8Array([0, 97, 115, 109, 0x0d, 0, 1, 0]);
    assert.throws(() => capMemory(component, 16), isCode("INVALID_INPUT"));
    const pageSize = new Uint8Array([
      ...HEADER,
      ...section(5, [1, 0x08, 1, 0]),
    ]);
    assert.throws(() => capMemory(pageSize, 16), isCode("INVALID_INPUT"));
    const overlong = new Uint8Array([
      ...HEADER,
      5,
      0x80,
      0x80,
      0x80,
      0x80,
      0x80,
      0x01,
    ]);
    assert.throws(() => capMemory(overlong, 16), isCode("INVALID_INPUT"));
  },
});

Deno.test({
  name:
    "`capMemory()` fails closed on every truncation and byte flip of a real module (attack)",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    const [wasm] = await loadWasmFixtures("wasm-hello");
    const bytes = wasm!;
    const check = (candidate: Uint8Array) => {
      try {
        const capped = capMemory(candidate, 16);
        // Whatever we accept and V8 accepts must carry the cap.
        if (WebAssembly.validate(capped)) {
          for (const m of readMemoryLimits(capped)) {
            assert.ok(m.max !== undefined && m.max <= 16);
          }
        }
      } catch (err) {
        if (!KernelError.is(err)) throw err;
      }
    };
    for (let n = 0; n < Math.min(bytes.length, 400); n++) {
      check(bytes.subarray(0, n));
    }
    for (let i = 8; i < bytes.length; i++) {
      const flipped = bytes.slice();
      flipped[i] = (flipped[i]! ^ 0xff) & 0xff;
      check(flipped);
    }
  },
});

Deno.test({
  name:
    "`capMemory()` on the AssemblyScript hog: its exported memory cannot grow past the cap",
  permissions: WASM_FIXTURE_PERMISSIONS,
  async fn() {
    const [wasm] = await loadWasmFixtures("wasm-hog");
    const before = readMemoryLimits(wasm!);
    assert.equal(before.length, 1);
    assert.equal(before[0]?.max, undefined, "asc emits no maximum by default");
    const capped = capMemory(wasm!, 1024);
    assert.equal(readMemoryLimits(capped)[0]?.max, 1024);
    const module = new WebAssembly.Module(capped as Uint8Array<ArrayBuffer>);
    const stubs: Record<string, Record<string, () => bigint>> = {};
    for (const imp of WebAssembly.Module.imports(module)) {
      (stubs[imp.module] ??= {})[imp.name] = () => 0n;
    }
    const memory = new WebAssembly.Instance(module, stubs).exports
      .memory as WebAssembly.Memory;
    const pages = memory.buffer.byteLength / 65_536;
    assert.throws(() => memory.grow(1024 - pages + 1), RangeError);
    memory.grow(1024 - pages);
    assert.equal(memory.buffer.byteLength, 64 * 1024 * 1024);
  },
});
