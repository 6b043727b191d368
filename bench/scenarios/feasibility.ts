/**
 * Whether issue 12's targets can be reached together, measured in one
 * process, interleaved: each row is a NECESSARY condition of one or two
 * targets, as a ratio that must be ≤ 1 for them to be reachable at all. A
 * row above 1 is not a slow path to optimise but a proof, with this run's
 * numbers, that no gate keeping the audit promise (the decision entry of an
 * effect is signed and durable before the effect) can meet it here.
 *
 * Measured (memory = Deno KV `:memory:`, file = a Deno KV file):
 * - R: the raw SDK `callTool("echo")` against the `everything` MCP server.
 * - B: the strict bound (bench/_bound.ts) on a memory store: one BLAKE3,
 *   one Ed25519 signature, one checked commit. No gate decision costs less.
 * - G: a bare `Gate.run()` (empty effect) of a js `fs_read` action, per
 *   store kind, in a tight loop: the gate's best case (hot code, the
 *   store's thread still awake).
 * - E: a js capsule's `fs_read` host call minus the time spent inside
 *   `Gate.run` during it (metered in place): the engine, the ABI and the
 *   door outside the gate; the overlay read, inside `Gate.run`, is not in E.
 * - C: one durable commit of one entry + head on a file store.
 *
 * Rows and the targets they bound (a gated call = its own work + a gate in
 * a worse context than G, so each is a lower bound of what the target needs):
 * 1. B / (0.5 R), memory. MCP ≤ 1.5× raw needs the gate's share ≤ 0.5 R,
 *    and that share is at least B.
 * 2. E / G, per store. js host call ≤ 2× G needs E + (gate in context) ≤
 *    2 G, so E ≤ G.
 * 3. E / (0.5 R), memory. Both memory targets together need E ≤ G (row 2)
 *    and G ≤ 0.5 R (an MCP call's gate does at least a bare gate's work).
 * 4. (G − C) / (0.2 (R + C)), file. MCP ≤ 1.2× (raw + one durable commit)
 *    leaves the gate 0.2 (R + C) beyond its own commit.
 *
 * @module
 */
import type { Row } from "../_interleave.ts";
import { interleave, ratioRow } from "../_interleave.ts";
import { oneCommit, strictBound } from "../_bound.ts";
import { startJsRead } from "../_js_read.ts";
import { ECHO, everythingCommand, startRawClient } from "../_mcp_raw.ts";
import { openStore, type ScenarioOptions } from "./_scenario.ts";

const REACHABLE = { op: "<=", value: 1 } as const;

/** @see the module doc. */
export default async function feasibility(
  o: ScenarioOptions,
): Promise<Row[]> {
  const raw = await startRawClient(await everythingCommand(), o.dir);
  const boundStore = await openStore("memory", o.dir, "bound");
  const commitStore = await openStore("file", o.dir, "durable");
  const jsMem = await startJsRead("memory");
  const jsFile = await startJsRead("file");
  try {
    const bound = await strictBound(boundStore);
    const commit = oneCommit(commitStore, "bench:durable");
    const t = await interleave(
      {
        raw: () => raw.callTool({ name: "echo", arguments: ECHO }),
        bound,
        hostMem: jsMem.hostCall,
        gateMem: jsMem.gateRun,
        hostFile: jsFile.hostCall,
        gateFile: jsFile.gateRun,
        commit: () => commit(),
      },
      {
        ...(o.quick
          ? { rounds: 3, iterations: 10, warmup: 10 }
          : { rounds: 15, iterations: 40, warmup: 1_000 }),
        meters: { inMem: jsMem.meterGate(), inFile: jsFile.meterGate() },
      },
    );
    const r = t.raw!;
    const half = r.map((x) => 0.5 * x);
    const outside = (host: number[], inside: number[]) =>
      host.map((x, i) => x - inside[i]!);
    const eMem = outside(t.hostMem!, t["hostMem@inMem"]!);
    const eFile = outside(t.hostFile!, t["hostFile@inFile"]!);
    return [
      ratioRow(
        "reach MCP ≤1.5×: strict bound / (0.5 × raw SDK call)",
        t.bound!,
        half,
        { store: "memory", target: REACHABLE },
      ),
      ratioRow(
        "reach js ≤2×: js host call outside Gate.run / bare Gate.run",
        eMem,
        t.gateMem!,
        { store: "memory", target: REACHABLE },
      ),
      ratioRow(
        "reach js ≤2× with MCP ≤1.5×: outside Gate.run / (0.5 × raw)",
        eMem,
        half,
        { store: "memory", target: REACHABLE },
      ),
      ratioRow(
        "reach js ≤2×: js host call outside Gate.run / bare Gate.run",
        eFile,
        t.gateFile!,
        { store: "file", target: REACHABLE },
      ),
      ratioRow(
        "reach MCP ≤1.2×: (Gate.run − commit) / (0.2 × (raw + commit))",
        t.gateFile!.map((g, i) => g - t.commit![i]!),
        r.map((x, i) => 0.2 * (x + t.commit![i]!)),
        { store: "file", target: REACHABLE },
      ),
    ];
  } finally {
    await jsMem.close();
    await jsFile.close();
    await raw.close();
    await boundStore.close();
    await commitStore.close();
  }
}
