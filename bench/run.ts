// deno-lint-ignore-file no-console -- a command-line report printer
/**
 * `deno task bench`: runs every `*_bench.ts` under kernel/ and tests/ with
 * `deno bench --json` and prints one table: time per op, ops/s, MB/s for
 * benches whose name ends in a size ("blake3 1 MiB"), and, inside a group that
 * has a baseline bench, the ratio to that baseline measured in the same run.
 *
 * Usage: deno task bench [filter]
 */
import * as path from "node:path";

interface BenchStats {
  n: number;
  avg: number;
  p75: number;
  p99: number;
}
interface BenchJson {
  origin: string;
  group: string | null;
  name: string;
  baseline: boolean;
  results: { ok?: BenchStats; failed?: string }[];
}

const root = path.resolve(import.meta.dirname ?? ".", "..");

async function findBenchFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const abs = path.join(dir, e.name);
    if (e.isDirectory && !e.name.startsWith(".") && e.name !== "fixtures") {
      out.push(...await findBenchFiles(abs));
    } else if (e.isFile && e.name.endsWith("_bench.ts")) out.push(abs);
  }
  return out;
}

function bytesIn(name: string): number | undefined {
  const m = name.match(/(\d+(?:\.\d+)?)\s*(B|KiB|MiB)\b/);
  if (!m) return undefined;
  const unit =
    { B: 1, KiB: 1024, MiB: 1024 * 1024 }[m[2] as "B" | "KiB" | "MiB"];
  return Number(m[1]) * unit;
}

function fmtTime(ns: number): string {
  if (ns < 1e3) return `${ns.toFixed(1)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${(ns / 1e6).toFixed(2)} ms`;
}

const filter = Deno.args[0];
const files = [
  ...await findBenchFiles(path.join(root, "kernel")),
  ...await findBenchFiles(path.join(root, "tests")),
].sort();
const rows: string[][] = [[
  "bench",
  "group",
  "time/op",
  "ops/s",
  "MB/s",
  "vs baseline",
]];
let failures = 0;
for (const file of files) {
  const args = [
    "bench",
    "--json",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-run",
    "--allow-net",
  ];
  if (filter) args.push("--filter", filter);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...args, file],
    stdout: "piped",
    stderr: "inherit",
  })
    .output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    console.error(`bench failed: ${path.relative(root, file)}`);
    failures++;
    continue;
  }
  const report = JSON.parse(text) as { benches: BenchJson[] };
  const baselines = new Map<string, number>();
  for (const b of report.benches) {
    const ok = b.results[0]?.ok;
    if (b.baseline && ok) baselines.set(b.group ?? "", ok.avg);
  }
  for (const b of report.benches) {
    const ok = b.results[0]?.ok;
    if (!ok) {
      rows.push([b.name, b.group ?? "", "FAILED", "", "", ""]);
      failures++;
      continue;
    }
    const bytes = bytesIn(b.name);
    const base = baselines.get(b.group ?? "");
    rows.push([
      b.name,
      b.group ?? "",
      fmtTime(ok.avg),
      Math.round(1e9 / ok.avg).toLocaleString("en-US"),
      bytes ? (bytes / (ok.avg / 1e9) / 1e6).toFixed(1) : "",
      base && !b.baseline
        ? `${(ok.avg / base).toFixed(2)}×`
        : b.baseline
        ? "baseline"
        : "",
    ]);
  }
}
const widths = rows[0]!.map((_, i) =>
  Math.max(...rows.map((r) => (r[i] ?? "").length))
);
for (const [i, r] of rows.entries()) {
  console.log(
    r.map((c, j) => (j >= 2 ? c.padStart(widths[j]!) : c.padEnd(widths[j]!)))
      .join("  "),
  );
  if (i === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
}
if (failures > 0) Deno.exit(1);
