/**
 * `astrid distro lock|verify|install` and `astrid init`.
 *
 * @module
 */
import * as path from "node:path";
import {
  DISTRO_LOCK,
  installDistro,
  lockDistro,
  startKernel,
  verifyDistro,
} from "../../mod.ts";
import { note, out, table, UsageError, warnLogger } from "../output.ts";
import type { Distro, DistroInstallOutcome } from "../../mod.ts";
import type { GlobalFlags } from "../flags.ts";
import { afterCapsuleChange } from "./capsule_change.ts";

const ROOT = path.resolve(import.meta.dirname ?? ".", "../..");
/** The default distro of this checkout. */
export const DEFAULT_DISTRO: string = path.join(
  ROOT,
  "capsules",
  "Distro.toml",
);

/** Help text of `astrid distro`. */
export const DISTRO_HELP =
  `astrid distro — the set of capsules that makes an agent, pinned by a lock

Usage:
  astrid distro lock    [--distro FILE] [--json]
      Hash (BLAKE3) every source file of each capsule listed in Distro.toml
      (Capsule.toml, main.ts, every other file; not tests, not build output)
      and write ${DISTRO_LOCK} next to it. A capsule whose directory does not
      exist is left out with a warning. Also: deno task distro:lock
  astrid distro verify  [--distro FILE] [--json]
      Check the sources against ${DISTRO_LOCK}; the first file that differs,
      is missing or was added is named and the command fails.
  astrid distro install [--distro FILE] [-w DIR] [--json]
      Verify (nothing is installed when a file differs), then build each
      capsule from a verified copy and install it with a signed record.
      Capsules whose directory is missing are skipped with a warning.

  --distro FILE   default: ${
    path.relative(Deno.cwd(), DEFAULT_DISTRO) || DEFAULT_DISTRO
  }

Exit codes: 0 ok, 1 failure (error[CODE] on stderr), 2 usage error.`;

function distroFile(flags: GlobalFlags): string {
  return path.resolve(flags.distro ?? DEFAULT_DISTRO);
}

/**
 * Runs `astrid distro <sub>`.
 *
 * @param args Arguments after `distro`.
 * @param flags Global flags.
 * @returns The exit code.
 */
export async function distroCommand(
  args: readonly string[],
  flags: GlobalFlags,
): Promise<number> {
  const [sub, ...extra] = args;
  if (extra.length > 0) {
    throw new UsageError(`Unexpected argument '${extra[0]}'`);
  }
  const file = distroFile(flags);
  switch (sub) {
    case "lock": {
      const { lock, file: written, missing } = await lockDistro(file);
      for (const m of missing) {
        note(`warning: ${m}: its directory does not exist; not locked`);
      }
      if (flags.json) {
        out(JSON.stringify({ file: written, ...lock, missing }, null, 2));
        return 0;
      }
      out(
        `Wrote ${written}: ${lock.capsules.length} capsules pinned (${
          lock.capsules.reduce((n, c) => n + Object.keys(c.files).length, 0)
        } files)${missing.length ? `, ${missing.length} missing` : ""}`,
      );
      return 0;
    }
    case "verify": {
      const { distro, capsules } = await verifyDistro(file);
      for (const c of capsules) {
        if (c.status === "missing") {
          note(`warning: ${c.name}: its directory does not exist`);
        }
      }
      if (flags.json) {
        out(JSON.stringify(
          {
            distro: distro.id,
            version: distro.version,
            capsules: capsules.map((c) => ({ name: c.name, status: c.status })),
          },
          null,
          2,
        ));
        return 0;
      }
      const ok = capsules.filter((c) => c.status === "ok").length;
      out(
        `${distro.id}@${distro.version}: ${ok} capsules match ${DISTRO_LOCK}${
          ok < capsules.length ? `, ${capsules.length - ok} missing` : ""
        }`,
      );
      return 0;
    }
    case "install":
      return await install(file, flags);
    default:
      throw new UsageError(
        sub
          ? `Unknown distro subcommand '${sub}'`
          : "Missing distro subcommand (lock, verify, install)",
      );
  }
}

async function install(
  file: string,
  flags: GlobalFlags,
): Promise<number> {
  await using kernel = await startKernel({
    logger: warnLogger,
    ...(flags.workspace ? { workspace: path.resolve(flags.workspace) } : {}),
  });
  const { distro, outcomes } = await installDistro(kernel, {
    distroFile: file,
    onProgress: (m) => note(`  ${m}`),
  });
  await afterCapsuleChange();
  if (flags.json) {
    out(JSON.stringify({ distro: distro.id, outcomes }, null, 2));
    return outcomes.some((o) => o.status === "failed") ? 1 : 0;
  }
  reportOutcomes(distro, outcomes);
  const failed = outcomes.filter((o) => o.status === "failed").length;
  return failed > 0 ? 1 : 0;
}

/**
 * Prints what a distro install did: a summary line and one row per capsule.
 *
 * @param distro The distro.
 * @param outcomes Each capsule's outcome.
 */
export function reportOutcomes(
  distro: Pick<Distro, "name" | "version">,
  outcomes: readonly DistroInstallOutcome[],
): void {
  const count = (s: string) => outcomes.filter((o) => o.status === s).length;
  const failed = count("failed");
  out(
    `${distro.name} ${distro.version}: ${count("installed")} installed, ${
      count("skipped")
    } skipped${failed ? `, ${failed} failed` : ""}`,
  );
  out(table([
    ["capsule", "status", "detail"],
    ...outcomes.map((o) => [o.name, o.status, o.detail]),
  ]));
}
