/**
 * Private: `Overlay.commit` — plan, check, ask the gate, apply, forget.
 *
 * 1. Plan: the chosen entries; directories first (shallow to deep), then
 *    files, then deletions (deep to shallow).
 * 2. Check every step against the workspace (`classify`); refused steps are
 *    reported and stay in the overlay.
 * 3. Ask the gate once with `{type: "overlay_commit", session_id, paths}`
 *    (absolute workspace paths of the steps to apply). A refusal throws its
 *    code before anything is written.
 * 4. Apply step by step under the path's lock, re-checking right before
 *    writing; one audit entry per step (`overlay_commit_path`, with the
 *    content's BLAKE3) is appended before the step's effect.
 * 5. Forget applied entries in batches: the manifest drops them first, then
 *    their upper files are deleted. A step whose rename landed but whose
 *    entry was not yet dropped (a crash) is recognised as `done` next time.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { PrincipalId, SessionId } from "../core/ids.ts";
import type { Allowed } from "../security/gate_types.ts";
import {
  classify,
  clearTemp,
  ensureLowerDirs,
  type Step,
  stepOf,
  tempPath,
  verifyParent,
} from "./_commit_apply.ts";
import type { OverlayState } from "./_overlay_state.ts";
import { selectKeys } from "./_select.ts";
import type {
  CommitAudit,
  CommitGate,
  CommitOptions,
  CommitRefusal,
  CommitResult,
  CommittedPath,
} from "./overlay_types.ts";

/** Who commits, and through what. */
export interface CommitContext {
  readonly state: OverlayState;
  readonly gate: CommitGate;
  readonly audit: CommitAudit;
  readonly principal: PrincipalId;
  readonly session: SessionId;
}

const COMMIT_LOCK = "\0commit";
const FORGET_BATCH = 32;

/** Runs a commit; one at a time per overlay. */
export async function commitOverlay(
  c: CommitContext,
  options: CommitOptions,
): Promise<CommitResult> {
  return await c.state.lock.run([COMMIT_LOCK], () => run(c, options));
}

async function run(
  c: CommitContext,
  options: CommitOptions,
): Promise<CommitResult> {
  const { state } = c;
  state.assertHealthy();
  const signal = options.signal;
  const force = options.force ?? false;
  const steps = plan(c, options.paths);
  const refused: CommitRefusal[] = [];
  const toApply: Step[] = [];
  const done: Step[] = [];
  for (const step of steps) {
    const entry = state.entries.get(step.key)!;
    const v = await classify(state, step.key, entry, { force, signal });
    if (v.status === "refused") {
      const parentPlanned = steps.some((s) =>
        s.op === "mkdir" && step.key.startsWith(`${s.key}/`)
      );
      if (parentPlanned) toApply.push(step); // decided again once its parent exists
      else refused.push({ path: step.key, code: v.code, message: v.message });
    } else (v.status === "apply" ? toApply : done).push(step);
  }
  const decision = toApply.length === 0 ? null : await ask(c, toApply, options);
  const committed: CommittedPath[] = [];
  const ordered = [...done, ...toApply];
  try {
    for (let i = 0; i < ordered.length; i += FORGET_BATCH) {
      const batch = ordered.slice(i, i + FORGET_BATCH);
      // The batch's paths stay locked until their entries are forgotten, so
      // a write racing the commit is never dropped with the entry.
      await state.lock.run(batch.map((s) => s.key), async () => {
        const landed: string[] = [];
        try {
          for (const step of batch) {
            signal?.throwIfAborted();
            const outcome = await applyStep(c, step, {
              force,
              options,
              decision,
            });
            if (outcome === null) continue;
            if ("refusal" in outcome) {
              refused.push(outcome.refusal);
              continue;
            }
            landed.push(step.key);
            report(committed, options, outcome.committed);
          }
        } catch (err) {
          await forgetAfterFailure(state, landed);
          throw err;
        }
        await forgetEntries(state, landed);
      });
    }
  } catch (err) {
    await decision?.budget.refund();
    throw err;
  }
  decision?.budget.commit();
  return {
    committed,
    refused,
    decision_audit_id: decision?.auditId ?? null,
  };
}

function plan(c: CommitContext, paths: readonly string[] | undefined): Step[] {
  const keys = selectKeys(c.state, paths, {
    withParents: true,
    what: "commit",
  });
  const steps = keys.map((k) => stepOf(k, c.state.entries.get(k)!));
  const depth = (s: Step) => s.key.split("/").length;
  const dirs = steps.filter((s) => s.op === "mkdir")
    .sort((a, b) => depth(a) - depth(b));
  const files = steps.filter((s) => s.op === "write");
  const deletes = steps.filter((s) => s.op === "delete")
    .sort((a, b) => depth(b) - depth(a));
  return [...dirs, ...files, ...deletes];
}

async function ask(
  c: CommitContext,
  steps: readonly Step[],
  options: CommitOptions,
): Promise<Allowed> {
  const ctx = {
    principal: c.principal,
    session: c.session,
    workspace: c.state.lowerRoot,
    callId: options.callId ?? `commit:${c.session}`,
    ...(options.capsule === undefined ? {} : { capsule: options.capsule }),
  };
  const decision = await c.gate.decide(
    {
      type: "overlay_commit",
      session_id: c.session,
      paths: steps.map((s) => c.state.lowerPath(s.key)),
    },
    ctx,
    options.signal ? { signal: options.signal } : {},
  );
  if (!decision.allowed) {
    throw new KernelError(
      decision.code,
      `Cannot commit ${steps.length} path(s) of session ${c.session}: ${decision.reason}`,
      {
        data: {
          layer: decision.layer,
          audit_id: decision.auditId,
          ...(decision.resolutionId
            ? { resolution_id: decision.resolutionId }
            : {}),
        },
      },
    );
  }
  return decision;
}

type StepOutcome =
  | { committed: CommittedPath }
  | { refusal: CommitRefusal }
  | null;

async function applyStep(
  c: CommitContext,
  step: Step,
  o: { force: boolean; options: CommitOptions; decision: Allowed | null },
): Promise<StepOutcome> {
  const { state } = c;
  const signal = o.options.signal;
  const entry = state.entries.get(step.key);
  if (entry === undefined) return null; // discarded meanwhile
  step = stepOf(step.key, entry);
  const v = await classify(state, step.key, entry, { force: o.force, signal });
  if (v.status === "refused") {
    return { refusal: { path: step.key, code: v.code, message: v.message } };
  }
  if (v.status === "done") {
    return { committed: { ...result(step, null), resumed: true } };
  }
  const decision = o.decision;
  if (decision === null) {
    return {
      refusal: {
        path: step.key,
        code: "VFS_CONFLICT",
        message:
          `Cannot commit '${step.key}' as the workspace changed during the commit`,
      },
    };
  }
  const parts = step.key.split("/");
  const target = state.lowerPath(step.key);
  try {
    await ensureLowerDirs(state, parts.slice(0, -1));
  } catch (err) {
    if (
      KernelError.is(err, "VFS_CONFLICT") ||
      KernelError.is(err, "VFS_PATH_ESCAPE")
    ) {
      return {
        refusal: { path: step.key, code: err.code, message: err.message },
      };
    }
    throw err;
  }
  const audit = (hash: string | null) =>
    appendAudit(c, step, hash, { options: o.options, decision });
  if (step.op === "write") {
    const { bytes } = await state.readUpperFile(step.key, step.key, signal);
    const hash = state.hasher.hashHex(bytes);
    const existing = await state.fs.lstat(target);
    if (existing?.isDirectory) {
      return refusal(
        step,
        "VFS_CONFLICT",
        "a directory is there in the workspace",
      );
    }
    const mode = existing?.isFile && existing.mode !== null
      ? existing.mode
      : 0o644;
    const tmp = tempPath(state, step.key, c.session);
    await clearTemp(state, tmp);
    await state.fs.writeFile(tmp, bytes, { createNew: true, sync: true, mode });
    try {
      await audit(hash);
    } catch (err) {
      await state.fs.remove(tmp);
      throw err;
    }
    await state.fs.rename(tmp, target);
    await verifyParent(state, parts.slice(0, -1));
    return { committed: { ...result(step, hash), resumed: false } };
  }
  const info = await state.fs.lstat(target);
  if (
    step.op === "delete" && info?.isDirectory &&
    (await state.fs.readDir(target)).length > 0
  ) {
    return refusal(
      step,
      "VFS_CONFLICT",
      "the workspace added files to the directory",
    );
  }
  await audit(null);
  if (step.op === "mkdir") {
    if (info !== null && !info.isDirectory) await state.fs.remove(target);
    if (info === null || !info.isDirectory) {
      await state.fs.mkdir(target, { mode: 0o755 });
    }
  } else if (info !== null) {
    try {
      await state.fs.remove(target);
    } catch (err) {
      if (!info.isDirectory || !KernelError.is(err, "HOST_IO")) throw err;
      return {
        refusal: {
          path: step.key,
          code: "VFS_CONFLICT",
          message:
            `Cannot delete the directory '${step.key}' as the workspace added files to it`,
        },
      };
    }
  }
  return { committed: { ...result(step, null), resumed: false } };
}

async function appendAudit(
  c: CommitContext,
  step: Step,
  hash: string | null,
  o: { options: CommitOptions; decision: Allowed },
): Promise<void> {
  await c.audit.append({
    principal: c.principal,
    session: c.session,
    capsule: o.options.capsule ?? null,
    call_id: o.options.callId ?? null,
    action: {
      type: "overlay_commit_path",
      path: c.state.lowerPath(step.key),
      content_hash: hash,
      op: step.op,
    },
    decision: "info",
    proof: { type: "commit", decision_audit_id: o.decision.auditId },
    outcome: null,
  }, o.options.signal ? { signal: o.options.signal } : {});
}

function refusal(
  step: Step,
  code: "VFS_CONFLICT" | "VFS_PATH_ESCAPE",
  why: string,
): StepOutcome {
  return {
    refusal: {
      path: step.key,
      code,
      message: `Cannot commit '${step.key}' as ${why}`,
    },
  };
}

function result(
  step: Step,
  hash: string | null,
): Omit<CommittedPath, "resumed"> {
  return { path: step.key, op: step.op, content_hash: hash };
}

function report(
  committed: CommittedPath[],
  options: CommitOptions,
  path: CommittedPath,
): void {
  committed.push(path);
  options.onProgress?.(path);
}

/** Forgets what landed before a failure; a second failure is logged, the first rethrown. */
async function forgetAfterFailure(
  state: OverlayState,
  keys: readonly string[],
): Promise<void> {
  try {
    await forgetEntries(state, keys);
  } catch (err) {
    // silent-ok: the caller rethrows the first failure; these paths are recognised as done next time.
    state.logger?.log("warn", "Could not forget committed overlay entries", {
      error: String(err),
    });
  }
}

/** Drops applied entries from the manifest, then deletes their upper files. */
async function forgetEntries(
  state: OverlayState,
  keys: readonly string[],
): Promise<void> {
  if (keys.length === 0) return;
  const files: string[] = [];
  for (const key of keys) {
    if (state.entries.get(key)?.kind === "file") files.push(key);
    state.deleteEntry(key);
  }
  await state.persist({ compact: true });
  for (const key of files) {
    try {
      await state.fs.remove(state.upperPath(key));
    } catch (err) {
      // silent-ok: already gone (a previous attempt deleted it).
      if (!KernelError.is(err, "NOT_FOUND")) throw err;
    }
  }
}
