/**
 * Private: `Overlay.diff` — what commit would change in the workspace, with
 * unified diffs for text files.
 *
 * @module
 */
import { sameState } from "./_commit_apply.ts";
import type { OverlayState } from "./_overlay_state.ts";
import { selectKeys } from "./_select.ts";
import { isBinary, unifiedDiff } from "./line_diff.ts";
import type { DiffOptions, OverlayChange } from "./overlay_types.ts";

const TEXT = new TextDecoder();

/** Lists the changes of the chosen entries against the workspace as it is now. */
export async function diffOverlay(
  state: OverlayState,
  options: DiffOptions,
): Promise<OverlayChange[]> {
  state.assertHealthy();
  const keys = selectKeys(state, options.paths, {
    withParents: false,
    what: "diff",
  });
  const out: OverlayChange[] = [];
  for (const key of keys) {
    options.signal?.throwIfAborted();
    const entry = state.entries.get(key);
    if (entry === undefined) continue;
    const lower = await state.lowerState(key, options.signal);
    const conflict = lower.type === "blocked" || !sameState(lower, entry.base);
    if (entry.kind === "dir") {
      if (lower.type === "dir") continue;
      out.push(change(key, "added", "dir", null, conflict));
      continue;
    }
    const before = lower.type === "file"
      ? (await state.readLowerFile(key, key, options.signal)).bytes
      : null;
    if (entry.kind === "whiteout") {
      if (lower.type === "absent" || lower.type === "blocked") continue;
      if (lower.type !== "file") {
        out.push(change(key, "deleted", lower.type, null, conflict));
        continue;
      }
      out.push(textChange(key, "deleted", before!, new Uint8Array(), conflict));
      continue;
    }
    const after = (await state.readUpperFile(key, key, options.signal)).bytes;
    if (before === null) {
      out.push(textChange(key, "added", new Uint8Array(), after, conflict));
    } else if (
      state.hasher.hashHex(after) !== (lower as { hash: string }).hash
    ) {
      out.push(textChange(key, "modified", before, after, conflict));
    }
  }
  return out;
}

function textChange(
  key: string,
  kind: OverlayChange["change"],
  before: Uint8Array,
  after: Uint8Array,
  conflict: boolean,
): OverlayChange {
  if (isBinary(before) || isBinary(after)) {
    return { ...change(key, kind, "file", null, conflict), binary: true };
  }
  const diff = unifiedDiff(TEXT.decode(before), TEXT.decode(after), {
    oldLabel: kind === "added" ? "/dev/null" : `a/${key}`,
    newLabel: kind === "deleted" ? "/dev/null" : `b/${key}`,
  });
  return change(key, kind, "file", diff, conflict);
}

function change(
  path: string,
  kind: OverlayChange["change"],
  type: OverlayChange["kind"],
  diff: string | null,
  conflict: boolean,
): OverlayChange {
  return { path, change: kind, kind: type, binary: false, diff, conflict };
}
