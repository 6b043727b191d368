/**
 * `astrid audit list|show|verify|export|stats` — the principal's audit chain
 * through the daemon; `astrid audit verify --file <export> --key <public
 * key>` checks an export offline, without a daemon.
 *
 * @module
 */
import { KernelError, verifyExportLines } from "../../mod.ts";
import type { AuditEntry } from "../../mod.ts";
import type { ApiClient } from "../../mod.ts";
import type {
  AuditListBody,
  AuditStatsBody,
  AuditVerifyBody,
} from "../../mod.ts";
import { EXIT_FAILURE, note, out, table, UsageError } from "../output.ts";
import { connectDaemon } from "../daemon_client.ts";
import type { GlobalFlags } from "../flags.ts";

/** Connects to the daemon (default: `() => connectDaemon(flags)`). */
export type Connect = () => Promise<ApiClient>;

const SUB_HELP: Readonly<Record<string, string>> = {
  list:
    `astrid audit list [--session ID] [--limit N] [capsule=NAME] [action=TYPE] [decision=D] [--json]
      The newest entries of the audit chain (default 50, at most 1000),
      optionally only those of a session, a capsule, an action type
      (e.g. file_write) or a decision (allowed, denied, deferred, info).`,
  show: `astrid audit show <entry id> [--json]
      One entry, as stored (run 'astrid audit verify' to trust it).`,
  verify: `astrid audit verify
      Verifies the chain through the daemon: hashes, links, signatures, head.
      Exit 0 when every chain verifies; 1 naming the first bad entry.
  astrid audit verify --file <export.jsonl> --key <public key base64>
      Verifies an export offline, without a daemon, trusting only that key
      ('astrid keys show' prints it). Exit 0 when it verifies; 1 naming the
      first bad line and entry.`,
  export: `astrid audit export [--file OUT]
      The chain as JSON lines (one canonical entry per line), to stdout or
      to OUT (created with mode 0600). Verify it with 'astrid audit verify
      --file OUT --key <public key>'.`,
  stats: `astrid audit stats [--json]
      Entries in the chain, per decision and per action type, first and last time.`,
};

/** Help text of `astrid audit`. */
export const AUDIT_HELP =
  `astrid audit — the signed, hash-chained audit log of every decision

Usage:
  ${Object.values(SUB_HELP).join("\n  ")}

Every command but 'verify --file' talks to the daemon (started when none runs).
Exit codes: 0 ok, 1 failure (error[CODE] on stderr), 2 usage error.`;

/**
 * The help of one `astrid audit` subcommand.
 *
 * @param sub The subcommand.
 * @returns Its help, or the whole command's for an unknown one.
 */
export function auditHelp(sub: string | undefined): string {
  const text = sub === undefined ? undefined : SUB_HELP[sub];
  return text === undefined ? AUDIT_HELP : `Usage:\n  ${text}`;
}

function short(id: string | null): string {
  return id === null ? "-" : id.slice(0, 8);
}

function actionOf(e: AuditEntry): string {
  const a = e.action as { type?: unknown } | null;
  return typeof a?.type === "string" ? a.type : "-";
}

function time(ms: number | null): string {
  return ms === null ? "-" : new Date(ms).toISOString();
}

function listQuery(
  rest: readonly string[],
  flags: GlobalFlags,
): Record<string, string | undefined> {
  const query: Record<string, string | undefined> = {
    session: flags.session,
    limit: flags.limit,
  };
  for (const arg of rest) {
    const m = /^(capsule|action|decision)=(.+)$/.exec(arg);
    if (m === null) {
      throw new UsageError(
        `Unexpected argument '${arg}' (filters are capsule=NAME, action=TYPE, decision=D)`,
      );
    }
    query[m[1]!] = m[2]!;
  }
  return query;
}

async function list(
  connect: Connect,
  rest: readonly string[],
  flags: GlobalFlags,
): Promise<number> {
  const query = listQuery(rest, flags);
  const client = await connect();
  const body = await client.call<AuditListBody>("auditList", { query });
  if (flags.json) {
    out(JSON.stringify(body.entries, null, 2));
    return 0;
  }
  if (body.entries.length === 0) {
    out("(no entries)");
    return 0;
  }
  out(table([
    ["TIME", "SEQ", "ID", "DECISION", "ACTION", "CAPSULE", "SESSION"],
    ...body.entries.map((e) => [
      time(e.timestamp),
      String(e.seq),
      short(e.id),
      e.decision,
      actionOf(e),
      e.capsule ?? "-",
      short(e.session),
    ]),
  ]));
  return 0;
}

async function show(
  connect: Connect,
  rest: readonly string[],
): Promise<number> {
  const [id, ...extra] = rest;
  if (id === undefined || extra.length > 0) {
    throw new UsageError("Usage: astrid audit show <entry id>");
  }
  const client = await connect();
  const entry = await client.call<AuditEntry>("auditShow", { params: { id } });
  out(JSON.stringify(entry, null, 2));
  return 0;
}

async function verifyOffline(file: string, key: string): Promise<number> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    throw new KernelError(
      "HOST_IO",
      `Cannot read the export '${file}': ${
        err instanceof Error ? err.message : String(err)
      }`,
    );
  }
  let result;
  try {
    result = verifyExportLines(text.split("\n"), [key]);
  } catch (err) {
    if (err instanceof TypeError) {
      throw new UsageError(
        `--key must be a 32-byte Ed25519 public key in padded base64 ('astrid keys show' prints it)`,
      );
    }
    throw err;
  }
  if (result.valid) {
    out(
      `audit export verifies: ${result.entriesVerified} entries, signed by the given key`,
    );
    return 0;
  }
  const bad = result.firstBad!;
  note(
    `error[AUDIT_CHAIN_BROKEN]: the export does not verify: line ${bad.line}, entry ${
      bad.id ?? "(none)"
    } (seq ${bad.seq}): ${bad.code}: ${bad.reason}`,
  );
  note(`  ${result.entriesVerified} entries before it verified`);
  return EXIT_FAILURE;
}

async function verify(connect: Connect, flags: GlobalFlags): Promise<number> {
  if (flags.file !== undefined || flags.key !== undefined) {
    if (flags.file === undefined || flags.key === undefined) {
      throw new UsageError(
        "Offline verification needs both --file <export.jsonl> and --key <public key base64>",
      );
    }
    return await verifyOffline(flags.file, flags.key);
  }
  const client = await connect();
  const body = await client.call<AuditVerifyBody>("auditVerify");
  if (flags.json) out(JSON.stringify(body, null, 2));
  for (const c of body.chains) {
    if (c.valid) {
      if (!flags.json) {
        out(
          `audit chain of '${c.principal}': ok (${c.entries_verified} entries verified)`,
        );
      }
      continue;
    }
    const bad = c.first_bad;
    note(
      `error[AUDIT_CHAIN_BROKEN]: the audit chain of '${c.principal}' does not verify: entry ${
        bad?.id ?? "(missing)"
      } (seq ${bad?.seq ?? "?"}): ${bad?.code ?? "?"}: ${bad?.reason ?? ""}`,
    );
    note(`  ${c.entries_verified} entries before it verified`);
  }
  return body.ok ? 0 : EXIT_FAILURE;
}

async function exportChain(
  connect: Connect,
  flags: GlobalFlags,
): Promise<number> {
  const client = await connect();
  const res = await client.raw("auditExport");
  if (res.body === null) return 0;
  if (flags.file === undefined) {
    await res.body.pipeTo(Deno.stdout.writable, { preventClose: true });
    return 0;
  }
  const file = await Deno.open(flags.file, {
    write: true,
    create: true,
    truncate: true,
    mode: 0o600,
  });
  let lines = 0;
  const count = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      for (const b of chunk) if (b === 10) lines++;
      controller.enqueue(chunk);
    },
  });
  await res.body.pipeThrough(count).pipeTo(file.writable);
  note(`wrote ${lines} audit entries to ${flags.file}`);
  return 0;
}

async function stats(connect: Connect, flags: GlobalFlags): Promise<number> {
  const client = await connect();
  const s = await client.call<AuditStatsBody>("auditStats");
  if (flags.json) {
    out(JSON.stringify(s, null, 2));
    return 0;
  }
  const counts = (o: Readonly<Record<string, number>>) =>
    Object.entries(o).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`)
      .join(", ") || "-";
  out(table([
    ["principal", s.principal],
    ["entries", String(s.entries)],
    ["decisions", counts(s.decisions)],
    ["actions", counts(s.actions)],
    ["first", time(s.first_at)],
    ["last", time(s.last_at)],
  ]));
  return 0;
}

/**
 * Runs `astrid audit <sub>`.
 *
 * @param args Arguments after `audit`.
 * @param flags Global flags.
 * @param connect Connects to the daemon (default `connectDaemon(flags)`;
 *   never called by `verify --file`).
 * @returns The exit code: 0 ok, 1 when a chain or an export does not verify.
 */
export async function auditCommand(
  args: readonly string[],
  flags: GlobalFlags,
  connect: Connect = () => connectDaemon(flags),
): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== "list" && sub !== "show" && rest.length > 0) {
    throw new UsageError(`Unexpected argument '${rest[0]}'`);
  }
  switch (sub) {
    case "list":
      return await list(connect, rest, flags);
    case "show":
      return await show(connect, rest);
    case "verify":
      return await verify(connect, flags);
    case "export":
      return await exportChain(connect, flags);
    case "stats":
      return await stats(connect, flags);
    default:
      throw new UsageError(
        sub
          ? `Unknown audit subcommand '${sub}'`
          : "Missing audit subcommand (list, show, verify, export, stats)",
      );
  }
}
