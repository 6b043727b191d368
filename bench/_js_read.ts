/**
 * Bench helper: a real runtime with one `js` capsule granted `fs_read` of
 * `cwd://data`, and the calls the js rows compare: the capsule's host call
 * `fs_read` of a 1 KiB workspace file (registry, engine, ABI dispatcher, the
 * door, `Gate.run`, overlay read) and `Gate.run()` of the SAME action
 * (taken from the audit entry the call wrote) with an empty effect.
 *
 * @module
 */
import * as path from "node:path";
import type { CapsuleId } from "../kernel/core/ids.ts";
import type { Action } from "../kernel/security/action.ts";
import type { Gate } from "../kernel/security/gate.ts";
import { makeRuntime } from "../tests/runtime_fixture_test.ts";
import type { StoreKind } from "./scenarios/_scenario.ts";

/** The js read bench's runtime and its calls. */
export interface JsRead {
  /** The runtime's gate. */
  readonly gate: Gate;
  /** One host call `fs_read` of the 1 KiB file (throws when refused). */
  hostCall(): Promise<void>;
  /** `Gate.run()` of the same action, empty effect. */
  gateRun(): Promise<void>;
  /** `Gate.decide()` of the same action, budget committed. */
  decide(): Promise<void>;
  /**
   * Milliseconds spent inside `Gate.run` so far (a meter; counting starts
   * at the first call after {@linkcode JsRead.meterGate}).
   */
  meterGate(): () => number;
  /** Flushes the gate, closes the runtime, removes its files. */
  close(): Promise<void>;
}

/**
 * Starts the runtime on a store of `kind` and makes one host call, to learn
 * the action the gate judges.
 *
 * @param kind The store kind.
 * @returns The calls.
 */
export async function startJsRead(kind: StoreKind): Promise<JsRead> {
  const f = await makeRuntime({
    fileStore: kind === "file",
    timeoutMs: 30_000,
  });
  try {
    const id = "bench-js" as CapsuleId;
    await Deno.mkdir(path.join(f.workspace, "data"));
    await Deno.writeTextFile(
      path.join(f.workspace, "data/bench.txt"),
      "x".repeat(1023) + "\n",
    );
    await f.install({
      name: id,
      engine: "js",
      capabilities: ['fs_read = ["cwd://data"]'],
    });
    const report = await f.boot();
    if (!report.loaded.includes(id)) throw new Error("capsule not loaded");
    const hostCall = async () => {
      const e = await f.hostCall(id, "fs_read", { path: "data/bench.txt" });
      if (!e.ok) throw new Error(`fs_read refused: ${e.error.message}`);
    };
    await hostCall();
    const entries = await f.audit(id, "allowed");
    const action = entries.at(-1)?.action as Action | undefined;
    if (action?.type !== "capsule_file_access") {
      throw new Error(`unexpected action ${JSON.stringify(action)}`);
    }
    const gate = f.kernel.security.gate;
    let n = 0;
    const ctx = () => ({
      principal: f.principal,
      session: f.runtime.session,
      capsule: id,
      workspace: f.runtime.workspace,
      callId: `bench-${n++}`,
    });
    return {
      gate,
      hostCall,
      async gateRun() {
        await gate.run(action, ctx(), { effect: () => Promise.resolve(null) });
      },
      async decide() {
        const d = await gate.decide(action, ctx());
        if (!d.allowed) throw new Error(`expected allowed: ${d.reason}`);
        d.budget.commit();
      },
      meterGate() {
        let ms = 0;
        const run = gate.run.bind(gate);
        // Times the gate's own method in place; it still does all its work.
        gate.run = async <T>(...args: Parameters<Gate["run"]>): Promise<T> => {
          const t0 = performance.now();
          try {
            return await run(...args) as T;
          } finally {
            ms += performance.now() - t0;
          }
        };
        return () => ms;
      },
      async close() {
        try {
          await gate.flush();
        } finally {
          await f.close();
        }
      },
    };
  } catch (err) {
    await f.close();
    throw err;
  }
}
