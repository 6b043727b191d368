/**
 * Writes a memory maximum into a WebAssembly module's binary.
 *
 * Extism's `memory.maxPages` only limits the host-side blocks it allocates;
 * the guest's own linear memory grows up to whatever maximum the module
 * declares (none ⇒ 4 GiB on wasm32). The only cap the guest cannot escape is
 * the one in the module's memory type, so the engine rewrites the limits of
 * every memory the module defines (memory section) or imports (import
 * section) before compiling it. After the patch `memory.grow` past the cap
 * returns -1, and a guest allocator traps.
 *
 * @module
 */
import { KernelError } from "../../../core/errors.ts";

/** The size of one wasm page in bytes. */
export const WASM_PAGE_BYTES = 65_536;

/** Where a memory is declared and what its limits are. */
export interface MemoryLimits {
  /** `"import"` (import section) or `"defined"` (memory section). */
  readonly origin: "import" | "defined";
  /** Minimum size in pages. */
  readonly min: number;
  /** Maximum size in pages, if declared. */
  readonly max: number | undefined;
  /** A 64-bit memory (memory64 proposal). */
  readonly memory64: boolean;
  /** A shared memory (threads proposal). */
  readonly shared: boolean;
}

const SECTION_IMPORT = 2;
const SECTION_MEMORY = 5;
const FLAG_MAX = 0x01;
const FLAG_SHARED = 0x02;
const FLAG_MEMORY64 = 0x04;
const FLAG_PAGE_SIZE = 0x08;

function invalid(why: string): KernelError {
  return new KernelError(
    "INVALID_INPUT",
    `Cannot read the WebAssembly module: ${why}`,
  );
}

class Reader {
  readonly #bytes: Uint8Array;
  readonly #end: number;
  #pos: number;
  constructor(bytes: Uint8Array, pos: number, end: number) {
    this.#bytes = bytes;
    this.#pos = pos;
    this.#end = end;
  }
  get pos(): number {
    return this.#pos;
  }
  get atEnd(): boolean {
    return this.#pos >= this.#end;
  }
  u8(): number {
    if (this.#pos >= this.#end) throw invalid(`truncated at byte ${this.#pos}`);
    return this.#bytes[this.#pos++] as number;
  }
  peek(): number {
    if (this.#pos >= this.#end) throw invalid(`truncated at byte ${this.#pos}`);
    return this.#bytes[this.#pos] as number;
  }
  /** Unsigned LEB128 of at most `bits` bits, as a safe integer. */
  uleb(bits: 32 | 64): number {
    let result = 0n;
    let shift = 0n;
    const maxBytes = Math.ceil(bits / 7);
    for (let i = 0; i < maxBytes; i++) {
      const b = this.u8();
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if ((b & 0x80) === 0) {
        if (result >= 1n << BigInt(bits)) throw invalid("LEB128 overflow");
        if (result > BigInt(Number.MAX_SAFE_INTEGER)) {
          throw invalid("limit too large");
        }
        return Number(result);
      }
    }
    throw invalid(`LEB128 longer than ${maxBytes} bytes at ${this.#pos}`);
  }
  /** Signed LEB128 (s33 heap types): only skipped, never interpreted. */
  skipSleb(maxBytes: number): void {
    for (let i = 0; i < maxBytes; i++) {
      if ((this.u8() & 0x80) === 0) return;
    }
    throw invalid(`signed LEB128 too long at ${this.#pos}`);
  }
  skip(n: number): void {
    if (n > this.#end - this.#pos) {
      throw invalid(`truncated at byte ${this.#pos}`);
    }
    this.#pos += n;
  }
}

function encodeUleb(value: number): number[] {
  const out: number[] = [];
  let v = BigInt(value);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    out.push(b);
  } while (v !== 0n);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

interface ParsedLimits extends MemoryLimits {
  /** Byte range of the limits (flags through max) inside the module. */
  readonly start: number;
  readonly end: number;
}

function readMemoryType(
  r: Reader,
  origin: MemoryLimits["origin"],
): ParsedLimits {
  const start = r.pos;
  const flags = r.u8();
  if (flags & ~0x0f) {
    throw invalid(`unknown memory flags 0x${flags.toString(16)}`);
  }
  if (flags & FLAG_PAGE_SIZE) {
    throw invalid("custom page sizes are not supported");
  }
  const memory64 = (flags & FLAG_MEMORY64) !== 0;
  const min = r.uleb(memory64 ? 64 : 32);
  const max = flags & FLAG_MAX ? r.uleb(memory64 ? 64 : 32) : undefined;
  const shared = (flags & FLAG_SHARED) !== 0;
  return { origin, min, max, memory64, shared, start, end: r.pos };
}

function skipRefType(r: Reader): void {
  const t = r.u8();
  if (t === 0x63 || t === 0x64) r.skipSleb(5); // (ref null? heaptype)
  else if (t < 0x69 || t > 0x74) {
    throw invalid(`unknown reference type 0x${t.toString(16)}`);
  }
}

function skipValType(r: Reader): void {
  const t = r.peek();
  if (t >= 0x7b && t <= 0x7f) r.u8(); // i32 i64 f32 f64 v128
  else skipRefType(r);
}

function readImports(r: Reader, out: ParsedLimits[]): void {
  const count = r.uleb(32);
  for (let i = 0; i < count; i++) {
    r.skip(r.uleb(32)); // module name
    r.skip(r.uleb(32)); // field name
    const kind = r.u8();
    if (kind === 0x00) r.uleb(32); // function: type index
    else if (kind === 0x01) { // table: reftype + limits
      skipRefType(r);
      const flags = r.u8();
      if (flags & ~0x05) throw invalid("unknown table limit flags");
      const bits = flags & 0x04 ? 64 : 32;
      r.uleb(bits);
      if (flags & 0x01) r.uleb(bits);
    } else if (kind === 0x02) out.push(readMemoryType(r, "import"));
    else if (kind === 0x03) { // global: valtype + mutability
      skipValType(r);
      if (r.u8() > 1) throw invalid("bad global mutability");
    } else if (kind === 0x04) { // tag: attribute + type index
      r.u8();
      r.uleb(32);
    } else throw invalid(`unknown import kind 0x${kind.toString(16)}`);
  }
  if (!r.atEnd) throw invalid("import section has trailing bytes");
}

function readMemories(r: Reader, out: ParsedLimits[]): void {
  const count = r.uleb(32);
  for (let i = 0; i < count; i++) out.push(readMemoryType(r, "defined"));
  if (!r.atEnd) throw invalid("memory section has trailing bytes");
}

interface Section {
  readonly id: number;
  /** Start of the section id byte. */
  readonly start: number;
  /** Start and end of the content. */
  readonly contentStart: number;
  readonly end: number;
}

function scan(
  wasm: Uint8Array,
): { sections: Section[]; memories: ParsedLimits[] } {
  const head = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (wasm.length < 8 || head.some((b, i) => wasm[i] !== b)) {
    throw invalid("not a core WebAssembly module (bad magic or version)");
  }
  const sections: Section[] = [];
  const memories: ParsedLimits[] = [];
  const r = new Reader(wasm, 8, wasm.length);
  while (!r.atEnd) {
    const start = r.pos;
    const id = r.u8();
    const size = r.uleb(32);
    const contentStart = r.pos;
    r.skip(size);
    const s = { id, start, contentStart, end: r.pos };
    sections.push(s);
    if (id === SECTION_IMPORT) {
      readImports(new Reader(wasm, contentStart, s.end), memories);
    } else if (id === SECTION_MEMORY) {
      readMemories(new Reader(wasm, contentStart, s.end), memories);
    }
  }
  return { sections, memories };
}

/**
 * Lists the memories a module imports or defines, with their limits.
 *
 * @param wasm The module bytes.
 * @returns One entry per memory, imports first (the wasm index order).
 * @throws {KernelError} `INVALID_INPUT` when the bytes are not a core wasm module
 *   this reader understands.
 *
 * @example Read the limits of a module with one memory (min 1, no max)
 * ```ts
 * import assert from "node:assert/strict";
 * import { readMemoryLimits } from "./cap_memory.ts";
 * const wasm = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 5, 3, 1, 0, 1]);
 * assert.deepEqual(readMemoryLimits(wasm), [
 *   { origin: "defined", min: 1, max: undefined, memory64: false, shared: false },
 * ]);
 * ```
 */
export function readMemoryLimits(wasm: Uint8Array): MemoryLimits[] {
  return scan(wasm).memories.map(({ origin, min, max, memory64, shared }) => ({
    origin,
    min,
    max,
    memory64,
    shared,
  }));
}

/**
 * Returns a copy of `wasm` whose memories (defined and imported) can never
 * exceed `maxPages` pages: a missing maximum becomes `maxPages`, a larger one
 * is lowered, a smaller one is kept.
 *
 * @param wasm The module bytes (not modified).
 * @param maxPages The cap in 64 KiB pages (64 MiB = 1024).
 * @returns The patched module bytes.
 * @throws {RangeError} When `maxPages` is not a positive integer ≤ 65536.
 * @throws {KernelError} `INVALID_INPUT` for bytes that are not a core module this
 *   reader understands (component binaries, custom page sizes, truncation);
 *   `CAPSULE_MEMORY` when a memory's minimum already exceeds the cap or the
 *   module has more than one memory (each would get its own cap).
 *
 * @example Cap a module's memory at 16 pages (1 MiB)
 * ```ts
 * import assert from "node:assert/strict";
 * import { capMemory, readMemoryLimits } from "./cap_memory.ts";
 * const wasm = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 5, 3, 1, 0, 1]);
 * const capped = capMemory(wasm, 16);
 * assert.equal(readMemoryLimits(capped)[0]?.max, 16);
 * assert.ok(WebAssembly.validate(capped));
 * ```
 */
export function capMemory(
  wasm: Uint8Array,
  maxPages: number,
): Uint8Array<ArrayBuffer> {
  if (!Number.isInteger(maxPages) || maxPages < 1 || maxPages > 65_536) {
    throw new RangeError(
      `maxPages must be an integer in 1..65536, got ${maxPages}`,
    );
  }
  const { sections, memories } = scan(wasm);
  if (memories.length > 1) {
    throw new KernelError(
      "CAPSULE_MEMORY",
      `Cannot cap the module's memory: it has ${memories.length} memories, and only one is allowed`,
      { data: { memories: memories.length } },
    );
  }
  const patches = new Map<number, number[]>(); // limits start -> new bytes
  for (const m of memories) {
    if (m.min > maxPages) {
      throw new KernelError(
        "CAPSULE_MEMORY",
        `Cannot load the module: its memory starts at ${m.min} pages, above the cap of ${maxPages} pages`,
        { data: { min_pages: m.min, cap_pages: maxPages } },
      );
    }
    const max = m.max === undefined ? maxPages : Math.min(m.max, maxPages);
    const flags = FLAG_MAX | (m.shared ? FLAG_SHARED : 0) |
      (m.memory64 ? FLAG_MEMORY64 : 0);
    patches.set(m.start, [flags, ...encodeUleb(m.min), ...encodeUleb(max)]);
  }
  const parts: Uint8Array[] = [wasm.subarray(0, 8)];
  for (const s of sections) {
    const touched = memories.filter((m) =>
      m.start >= s.contentStart && m.end <= s.end
    );
    if (touched.length === 0) {
      parts.push(wasm.subarray(s.start, s.end));
      continue;
    }
    const content: Uint8Array[] = [];
    let at = s.contentStart;
    for (const m of touched) {
      content.push(wasm.subarray(at, m.start));
      content.push(new Uint8Array(patches.get(m.start) ?? []));
      at = m.end;
    }
    content.push(wasm.subarray(at, s.end));
    const size = content.reduce((n, c) => n + c.length, 0);
    parts.push(new Uint8Array([s.id, ...encodeUleb(size)]), ...content);
  }
  return concat(parts);
}
