// deno-lint-ignore-file no-console -- a command-line report printer
/**
 * `deno task bench [--quick] [scenario…]`: the ratios of issue 12, one table.
 *
 * Each scenario (bench/scenarios/*.ts) runs in its own `deno` process (fresh
 * heap: resident-memory rows are not polluted by the others; a crash names its
 * scenario) and measures its subject and baseline in INTERLEAVED rounds with
 * bench/_interleave.ts. Every row is the median of per-round values with its
 * spread (p25–p75 and min–max), the target from the issue, and pass/FAIL.
 *
 * `--quick`: few rounds, a smoke run (numbers are not a measurement).
 * `--json`: print the rows as JSON instead of the table.
 *
 * @module
 */
import * as path from "node:path";
import { fmtMs, passes, type Row } from "./_interleave.ts";
import type { Scenario } from "./scenarios/_scenario.ts";

/** Scenario names, in table order. */
const SCENARIOS = [
  "gate",
  "mcp",
  "mcp_http",
  "mcp_serve",
  "audit_verify",
  "js",
  "memory",
  "overlay",
  "store_commit",
  "store_pg",
  "cluster",
  "cluster_fencing",
  "turn",
  "daemon",
  "feasibility",
] as const;

const here = import.meta.dirname ?? ".";
const args = Deno.args;
const quick = args.includes("--quick");
const json = args.includes("--json");
const child = args.indexOf("--child");

if (child >= 0) {
  // Child mode: run one scenario, print its rows as JSON on stdout.
  const name = args[child + 1]!;
  const mod = await import(path.join(here, "scenarios", `${name}.ts`)) as {
    default: Scenario;
  };
  const dir = await Deno.realPath(
    await Deno.makeTempDir({ prefix: `astrid-bench-${name}-` }),
  );
  try {
    const rows = await mod.default({ quick, dir });
    console.log(JSON.stringify(rows));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  // Engines, servers and workers may keep the loop alive; the rows are out.
  Deno.exit(0);
}

const picked = args.filter((a) => !a.startsWith("--"));
const names = picked.length > 0 ? picked : [...SCENARIOS];
const results: { scenario: string; rows: Row[] }[] = [];
let failed = 0;
const t0 = performance.now();
const loadBefore = loadavg();
for (const name of names) {
  const started = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-run",
      "--allow-net",
      "--v8-flags=--expose-gc",
      path.join(here, "run.ts"),
      "--child",
      name,
      ...(quick ? ["--quick"] : []),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1);
  if (!out.success || !text) {
    console.error(`scenario ${name} failed (exit ${out.code})`);
    failed++;
    continue;
  }
  results.push({ scenario: name, rows: JSON.parse(text) as Row[] });
  console.error(
    `  ${name}: ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
}

if (json) {
  console.log(JSON.stringify(results, null, 2));
} else {
  printTable(results);
  console.log(
    `\n${quick ? "QUICK (smoke) run — not a measurement. " : ""}` +
      `Each value is the median of per-round values from interleaved rounds ` +
      `(subject and baseline measured in every round); spread = p25–p75 ` +
      `[min–max]. ${navigator.hardwareConcurrency} cores, load average ` +
      `${loadBefore} before, ${loadavg()} after; total ` +
      `${((performance.now() - t0) / 1000).toFixed(0)} s.`,
  );
}
const fails = results.flatMap((r) => r.rows).filter((r) => passes(r) === false);
if (failed > 0) Deno.exit(2);
if (fails.length > 0) Deno.exitCode = 1;

/** The 1-minute load average, or `?` without `--allow-sys`. */
function loadavg(): string {
  try {
    return (Deno.loadavg()[0] ?? 0).toFixed(2);
  } catch {
    // silent-ok: the load average is context for the reader, not a result.
    return "?";
  }
}

function fmt(x: number, unit: string): string {
  if (unit === "ms") return fmtMs(x);
  return unit === "×" ? `${x.toFixed(2)}×` : `${x.toFixed(2)} ${unit}`;
}

function printTable(all: readonly { scenario: string; rows: Row[] }[]): void {
  const table: string[][] = [[
    "ratio / value",
    "store",
    "median",
    "p25–p75",
    "min–max",
    "n",
    "target",
    "",
    "medians (subject vs baseline)",
  ]];
  for (const { scenario, rows } of all) {
    table.push([`[${scenario}]`, "", "", "", "", "", "", "", ""]);
    for (const r of rows) {
      const s = r.summary;
      const ok = passes(r);
      table.push([
        `  ${r.name}`,
        r.store ?? "",
        fmt(s.median, r.unit),
        `${fmt(s.p25, r.unit)}–${fmt(s.p75, r.unit)}`,
        `${fmt(s.min, r.unit)}–${fmt(s.max, r.unit)}`,
        String(s.n),
        r.target ? `${r.target.op} ${fmt(r.target.value, r.unit)}` : "",
        ok === undefined ? "" : ok ? "pass" : "FAIL",
        r.detail ?? "",
      ]);
    }
  }
  const widths = table[0]!.map((_, i) =>
    Math.max(...table.map((r) => (r[i] ?? "").length))
  );
  for (const [i, r] of table.entries()) {
    console.log(
      r.map((c, j) =>
        j >= 2 && j <= 6 ? c.padStart(widths[j]!) : c.padEnd(widths[j]!)
      ).join("  ").trimEnd(),
    );
    if (i === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
  }
}
