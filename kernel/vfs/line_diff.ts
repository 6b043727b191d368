/**
 * Unified line diffs (Myers' O((N+M)·D) algorithm) and binary detection, for
 * reviewing what an overlay would commit.
 *
 * @module
 */

/**
 * Bytes inspected for a NUL when deciding whether content is binary.
 *
 * @example A NUL past the sniffed prefix does not count
 * ```ts
 * import { BINARY_SNIFF_BYTES, isBinary } from "./line_diff.ts";
 * const bytes = new Uint8Array(BINARY_SNIFF_BYTES + 1).fill(97);
 * bytes[BINARY_SNIFF_BYTES] = 0;
 * console.assert(!isBinary(bytes));
 * ```
 */
export const BINARY_SNIFF_BYTES = 8192;
/**
 * Above this many lines (old + new), the diff is one hunk that replaces
 * everything (as it is above an edit distance of 5,000 lines).
 *
 * @example Large inputs still produce a valid diff
 * ```ts
 * import { MAX_DIFF_LINES, unifiedDiff } from "./line_diff.ts";
 * const big = "x\n".repeat(MAX_DIFF_LINES);
 * console.assert(unifiedDiff(big, big + "y\n").endsWith("+y\n"));
 * ```
 */
export const MAX_DIFF_LINES = 50_000;
const MAX_EDIT_DISTANCE = 5_000;

/**
 * Whether content is binary: a NUL byte in the first 8 KiB, or not valid UTF-8.
 *
 * @param bytes The content.
 * @returns `true` for binary.
 *
 * @example Text and binary
 * ```ts
 * import { isBinary } from "./line_diff.ts";
 * console.assert(!isBinary(new TextEncoder().encode("héllo\n")));
 * console.assert(isBinary(new Uint8Array([104, 0, 105])));
 * console.assert(isBinary(new Uint8Array([0xff, 0xfe, 0x41])));
 * ```
 */
export function isBinary(bytes: Uint8Array): boolean {
  if (bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0)) return true;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return false;
  } catch {
    // silent-ok: a decoding failure is the answer (invalid UTF-8 ⇒ binary).
    return true;
  }
}

/** Options of {@linkcode unifiedDiff}. */
export interface UnifiedDiffOptions {
  /** The `---` label (default `a`). */
  oldLabel?: string;
  /** The `+++` label (default `b`). */
  newLabel?: string;
  /** Unchanged lines shown around each change (default 3). */
  context?: number;
}

type Op = { t: " " | "-" | "+"; line: string; o: number; n: number };

/**
 * A unified diff of two texts, `""` when they are equal. A missing final
 * newline is marked `\ No newline at end of file`, as GNU diff does.
 *
 * @param oldText The old text.
 * @param newText The new text.
 * @param options Labels and context size.
 * @returns The diff.
 *
 * @example One changed line
 * ```ts
 * import assert from "node:assert/strict";
 * import { unifiedDiff } from "./line_diff.ts";
 * assert.equal(
 *   unifiedDiff("a\nb\nc\n", "a\nB\nc\n", { oldLabel: "a/f", newLabel: "b/f" }),
 *   "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n",
 * );
 * ```
 */
export function unifiedDiff(
  oldText: string,
  newText: string,
  options: UnifiedDiffOptions = {},
): string {
  if (oldText === newText) return "";
  const a = splitLines(oldText);
  const b = splitLines(newText);
  const ops = myers(a, b) ?? replaceAll(a, b);
  const context = options.context ?? 3;
  let out = `--- ${options.oldLabel ?? "a"}\n+++ ${options.newLabel ?? "b"}\n`;
  for (const [start, end] of hunkRanges(ops, context)) {
    const hunk = ops.slice(start, end);
    const oldLen = hunk.filter((op) => op.t !== "+").length;
    const newLen = hunk.filter((op) => op.t !== "-").length;
    const first = hunk[0]!;
    const oldStart = oldLen === 0 ? first.o : first.o + 1;
    const newStart = newLen === 0 ? first.n : first.n + 1;
    out += `@@ -${range(oldStart, oldLen)} +${range(newStart, newLen)} @@\n`;
    for (const op of hunk) {
      out += op.line.endsWith("\n")
        ? `${op.t}${op.line}`
        : `${op.t}${op.line}\n\\ No newline at end of file\n`;
    }
  }
  return out;
}

/** A hunk range as GNU diff prints it: the count is left out when it is 1. */
function range(start: number, length: number): string {
  return length === 1 ? `${start}` : `${start},${length}`;
}

/** Lines with their terminators, so `"x"` and `"x\n"` differ. */
function splitLines(text: string): string[] {
  const lines = text.match(/[^\n]*\n|[^\n]+$/g);
  return lines ?? [];
}

function replaceAll(a: readonly string[], b: readonly string[]): Op[] {
  return [
    ...a.map((line, i): Op => ({ t: "-", line, o: i, n: 0 })),
    ...b.map((line, j): Op => ({ t: "+", line, o: a.length, n: j })),
  ];
}

/** Myers' greedy shortest edit script; `null` when too large to compute. */
function myers(a: readonly string[], b: readonly string[]): Op[] | null {
  const n = a.length;
  const m = b.length;
  if (n + m > MAX_DIFF_LINES) return null;
  const max = n + m;
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    if (d > MAX_EDIT_DISTANCE) return null;
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[k - 1 + off]! < v[k + 1 + off]!)
        ? v[k + 1 + off]!
        : v[k - 1 + off]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[k + off] = x;
      if (x >= n && y >= m) return backtrack(a, b, trace, off);
    }
  }
  return null;
}

function backtrack(
  a: readonly string[],
  b: readonly string[],
  trace: readonly Int32Array[],
  off: number,
): Op[] {
  const ops: Op[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = trace.length - 1; d >= 0; d--) {
    const v = trace[d]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && v[k - 1 + off]! < v[k + 1 + off]!)
      ? k + 1
      : k - 1;
    const prevX = v[prevK + off]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      ops.push({ t: " ", line: a[x]!, o: x, n: y });
    }
    if (d > 0) {
      if (x === prevX) {
        ops.push({ t: "+", line: b[prevY]!, o: prevX, n: prevY });
      } else ops.push({ t: "-", line: a[prevX]!, o: prevX, n: prevY });
    }
    x = prevX;
    y = prevY;
  }
  return ops.reverse();
}

/** [start, end) index ranges of hunks: changes plus `context` lines, merged when close. */
function hunkRanges(ops: readonly Op[], context: number): [number, number][] {
  const ranges: [number, number][] = [];
  for (let i = 0; i < ops.length; i++) {
    if (ops[i]!.t === " ") continue;
    const start = Math.max(0, i - context);
    let end = i + 1;
    while (end < ops.length) {
      if (ops[end]!.t !== " ") {
        end++;
        continue;
      }
      let j = end;
      while (j < ops.length && ops[j]!.t === " ") j++;
      if (j < ops.length && j - end <= 2 * context) end = j;
      else break;
    }
    const stop = Math.min(ops.length, end + context);
    const last = ranges.at(-1);
    if (last && start <= last[1]) last[1] = stop;
    else ranges.push([start, stop]);
    i = end - 1;
  }
  return ranges;
}
