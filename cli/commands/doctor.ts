/**
 * `astrid doctor`: is this machine and home fit to run Astrid — Deno,
 * permissions of the home and the key, bubblewrap, the daemon's socket, the
 * store, the audit chains, and the Deno flags the daemon would run under.
 *
 * @module
 */
import type { FlagEntry } from "../../mod.ts";
import type { GlobalFlags } from "../flags.ts";
import { out, UsageError } from "../output.ts";
import { type DoctorReport, runDoctor } from "./doctor_checks.ts";

/** Help text of `astrid doctor`. */
export const DOCTOR_HELP =
  `astrid doctor — check this machine and the Astrid home

Usage:
  astrid doctor [--json]

Checks, each problem with its fix:
  deno          the running Deno is at least the project's version
  home          $ASTRID_HOME and its directories are private (0700)
  runtime key   keys/runtime.key exists, is 0600 and loads
  bubblewrap    a bwrap that can start a sandbox here
  daemon        run/system.sock answers, or no stale socket/token/ready files
                (never starts a daemon)
  store         var/state.kv opens (skipped while a daemon holds it)
  audit         every principal's audit chain verifies
  flags         the Deno permissions the daemon runs under, with the reason
                for each entry (the sixth layer: docs/sixth-layer.md)

Exit codes: 0 when nothing failed (warnings allowed), 1 otherwise.`;

const MARK = { ok: "ok  ", warn: "warn", fail: "FAIL" } as const;

function flagLines(
  name: string,
  entries: readonly FlagEntry[] | null,
): string[] {
  if (entries === null) return [`  --allow-${name} (every host)`];
  if (entries.length === 0) return [`  --allow-${name}: none`];
  const lines = [`  --allow-${name}`];
  // Runs of entries with one reason (the socket slots) on one line.
  for (let i = 0; i < entries.length;) {
    let j = i;
    while (
      j + 1 < entries.length && entries[j + 1]!.reason === entries[i]!.reason
    ) j++;
    const first = entries[i]!;
    lines.push(
      j - i >= 2
        ? `    ${first.value} … ${entries[j]!.value} (${j - i + 1} entries)`
        : entries.slice(i, j + 1).map((e) => `    ${e.value}`).join("\n"),
      `      ${first.reason}`,
    );
    i = j + 1;
  }
  return lines;
}

/**
 * Renders the report for a terminal.
 *
 * @param r The report.
 * @returns The text.
 */
export function renderDoctor(r: DoctorReport): string {
  const width = Math.max(...r.checks.map((c) => c.name.length));
  const lines = [`astrid doctor — ${r.home}`, ""];
  for (const c of r.checks) {
    lines.push(`${MARK[c.status]}  ${c.name.padEnd(width)}  ${c.detail}`);
    if (c.fix && c.status !== "ok") {
      lines.push(`${" ".repeat(width + 8)}fix: ${c.fix}`);
    }
  }
  if (r.flags !== null) {
    const f = r.flags;
    lines.push(
      "",
      "The daemon's Deno flags (the exact argv: astrid doctor --json, flags.args):",
      `  ${f.args.filter((a) => !a.startsWith("--allow-")).join(" ")}`,
      ...flagLines("read", f.read),
      ...flagLines("write", f.write),
      ...flagLines("net", f.net),
      ...flagLines("env", f.env),
      ...flagLines("run", f.run),
      ...flagLines("sys", f.sys),
      ...f.notes.map((n) => `  note: ${n}`),
    );
  }
  const failed = r.checks.filter((c) => c.status === "fail").length;
  lines.push(
    "",
    failed === 0 ? "No problems found." : `${failed} problem(s) found.`,
  );
  return lines.join("\n");
}

/**
 * Runs `astrid doctor`.
 *
 * @param args Arguments after `doctor` (none).
 * @param flags Global flags (`--json`).
 * @returns 0 when no check failed, 1 otherwise.
 */
export async function doctorCommand(
  args: readonly string[],
  flags: GlobalFlags,
): Promise<number> {
  if (args.length > 0) {
    throw new UsageError(`astrid doctor takes no arguments (got '${args[0]}')`);
  }
  const report = await runDoctor();
  out(flags.json ? JSON.stringify(report, null, 2) : renderDoctor(report));
  return report.ok ? 0 : 1;
}
