/**
 * Which capsule engines can run where the kernel runs.
 *
 * @module
 */
import type { EngineStatus } from "../api/contract.ts";

/**
 * The engines and their availability: `js`, `wasm` and `static` always run
 * in-process; `mcp` needs subprocesses.
 *
 * @param mcpAvailable Whether subprocesses are permitted.
 * @returns One status per engine.
 */
export function engineStatuses(mcpAvailable: boolean): EngineStatus[] {
  return [
    { name: "js", available: true },
    { name: "wasm", available: true },
    { name: "static", available: true },
    mcpAvailable ? { name: "mcp", available: true } : {
      name: "mcp",
      available: false,
      reason: "subprocesses are not permitted here (no --allow-run)",
    },
  ];
}
