/**
 * `astrid init`: install a distro into `$ASTRID_HOME` the way a new user
 * expects — pick the providers, answer the distro's questions, watch a
 * progress bar, enter the API keys without echo — or, when not interactive,
 * take every answer from flags and the environment.
 *
 * @module
 */
import * as path from "node:path";
import {
  applySettings,
  distroGroups,
  installDistro,
  KernelError,
  openSecretRequests,
  pickCapsules,
  readInstalledDistro,
  resolveSettings,
  startKernel,
  usedVariables,
  verifyDistro,
} from "../../mod.ts";
import type { Distro, KernelHandle } from "../../mod.ts";
import type { GlobalFlags } from "../flags.ts";
import { note, out, UsageError, warnLogger } from "../output.ts";
import { ProgressBar, readHidden } from "../terminal.ts";
import { afterCapsuleChange } from "./capsule_change.ts";
import { DEFAULT_DISTRO, reportOutcomes } from "./distro.ts";
import { KvSecretStore } from "../../mod.ts";
import type { CapsuleId } from "../../mod.ts";

/** Help text of `astrid init`. */
export const INIT_HELP =
  `astrid init — install a distro (the capsules that make an agent) into $ASTRID_HOME

Usage:
  astrid init [--distro FILE] [--providers LIST] [--var NAME=VALUE]... [--force] [--json]

Creates $ASTRID_HOME and the runtime key when missing, verifies every
capsule's sources against the distro's lock (a mismatch is refused, naming the
file), builds and installs them with signed install records, with a progress
bar. What was installed is recorded atomically in
$ASTRID_HOME/home/<principal>/.config/distro.lock; when the same distro and
sources are installed, init does nothing (--force reinstalls).

On a terminal you are asked: which LLM providers to install, the distro's
{{ variable }} values (Enter keeps the default), the default provider, and each
API key a picked capsule needs (typed without echo; Enter skips — set it later
with 'astrid secret set'). Otherwise the answers come from:
  --providers LIST     providers to install, e.g. provider-anthropic,provider-replay
                       (or ASTRID_PROVIDERS; default: all)
  --var NAME=VALUE     a distro variable (or ASTRID_VAR_<NAME>; else its default)
  API keys             the environment variable of the key's name, e.g.
                       ANTHROPIC_API_KEY (never a flag: flags show in 'ps')
  --distro FILE        default: capsules/Distro.toml of this checkout`;

const VAR_ENV = (name: string) =>
  `ASTRID_VAR_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;

function splitList(s: string): string[] {
  return s.split(",").map((x) => x.trim()).filter((x) => x !== "");
}

function flagVars(flags: GlobalFlags): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of flags.vars) {
    const eq = v.indexOf("=");
    if (eq <= 0) throw new UsageError(`--var expects NAME=VALUE, got '${v}'`);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

function ask(question: string, fallback: string): string {
  const answer = prompt(`${question} [${fallback}]`);
  return answer === null || answer.trim() === "" ? fallback : answer.trim();
}

/** Picks of each group of alternatives. */
function choosePicks(
  distro: Distro,
  flags: GlobalFlags,
  interactive: boolean,
): Record<string, string[]> {
  const picks: Record<string, string[]> = {};
  for (const [group, members] of distroGroups(distro)) {
    const names = members.map((m) => m.name);
    const given = group === "llm"
      ? flags.providers ?? Deno.env.get("ASTRID_PROVIDERS")
      : undefined;
    if (given !== undefined) {
      picks[group] = splitList(given).map((n) =>
        names.includes(n)
          ? n
          : names.includes(`provider-${n}`)
          ? `provider-${n}`
          : n
      );
      continue;
    }
    if (!interactive) continue;
    out(`Group '${group}' — install which?`);
    names.forEach((n, i) => out(`  ${i + 1}) ${n}`));
    const answer = ask("Numbers or names, comma-separated", "all");
    if (answer === "all") continue;
    picks[group] = splitList(answer).map((a) =>
      /^\d+$/.test(a) ? names[Number(a) - 1] ?? a : a
    );
  }
  return picks;
}

function chooseValues(
  distro: Distro,
  picked: ReadonlySet<string>,
  flags: GlobalFlags,
  interactive: boolean,
): Record<string, string> {
  const given = flagVars(flags);
  const values: Record<string, string> = {};
  for (const name of usedVariables(distro, picked)) {
    const v = distro.variables[name]!;
    const fromEnv = Deno.env.get(VAR_ENV(name));
    if (Object.hasOwn(given, name)) values[name] = given[name]!;
    else if (fromEnv !== undefined) values[name] = fromEnv;
    else if (interactive && !v.secret) {
      const answer = prompt(
        `${v.description ?? name}${v.default ? ` [${v.default}]` : ""}:`,
      );
      if (answer !== null && answer.trim() !== "") values[name] = answer.trim();
    }
  }
  return values;
}

async function askSecrets(
  kernel: KernelHandle,
  installed: readonly string[],
  interactive: boolean,
): Promise<string[]> {
  const store = new KvSecretStore(kernel.store, kernel.principal);
  const open: string[] = [];
  for (const r of await openSecretRequests(kernel, installed)) {
    let value = Deno.env.get(r.key);
    if ((value === undefined || value === "") && interactive) {
      value = await readHidden(
        `${r.request} (${r.capsule}, ${r.key}; Enter to skip):`,
      ) ?? "";
    }
    if (value !== undefined && value !== "") {
      await store.set(r.capsule as CapsuleId, r.key, value);
      note(`  stored secret ${r.key} of ${r.capsule}`);
    } else open.push(`${r.capsule} ${r.key}`);
  }
  return open;
}

/**
 * Writes `[model] provider` to the user config when no layer sets it: the
 * first provider the user picked, or on a terminal the one they name. With
 * no pick (everything installed by default) and no answer nothing is written
 * (the orchestrator's default, replay, stays).
 */
async function setDefaultProvider(
  kernel: KernelHandle,
  installed: readonly string[],
  picked: readonly string[] | undefined,
  interactive: boolean,
): Promise<string | null> {
  if (kernel.config.get("model.provider") !== "unknown") return null;
  const short = (names: readonly string[]) =>
    names.filter((n) => installed.includes(n)).map((p) =>
      p.replace(/^provider-/, "")
    );
  const choices = short(installed);
  let pick = picked === undefined ? "" : short(picked)[0] ?? "";
  if (interactive && choices.length > 1) {
    const answer = prompt(
      `Default provider (${choices.join(", ")})${
        pick ? ` [${pick}]` : " [none: keep the built-in default]"
      }`,
    )?.trim();
    if (answer) pick = answer;
    if (pick && !choices.includes(pick)) {
      throw new UsageError(`'${pick}' is not one of ${choices.join(", ")}`);
    }
  }
  if (pick === "") return null;
  const file = kernel.home.configToml;
  const { fs } = kernel.ports;
  let text = "";
  try {
    text = await fs.readTextFile(file);
  } catch (err) {
    if (!KernelError.is(err, "NOT_FOUND")) throw err;
  }
  if (/^\s*\[model\]/m.test(text)) return null; // the user's own section: keep it
  const next = `${text}${
    text === "" || text.endsWith("\n") ? "" : "\n"
  }\n# written by 'astrid init'\n[model]\nprovider = "${pick}"\n`;
  const tmp = `${file}.${crypto.randomUUID()}.tmp`;
  await fs.writeFile(tmp, new TextEncoder().encode(next), { mode: 0o600 });
  await fs.rename(tmp, file);
  return pick;
}

/**
 * Runs `astrid init`.
 *
 * @param args Arguments after `init` (none).
 * @param flags Global flags.
 * @returns The exit code.
 */
export async function initCommand(
  args: readonly string[],
  flags: GlobalFlags,
): Promise<number> {
  if (args.length > 0) throw new UsageError(`Unexpected argument '${args[0]}'`);
  const file = path.resolve(flags.distro ?? DEFAULT_DISTRO);
  const interactive = Deno.stdin.isTerminal() && !flags.json;
  await using kernel = await startKernel({
    logger: warnLogger,
    ...(flags.workspace ? { workspace: path.resolve(flags.workspace) } : {}),
  });
  const { distro, capsules } = await verifyDistro(file, kernel.ports.fs);
  const picks = choosePicks(distro, flags, interactive);
  const picked = pickCapsules(distro, picks);
  const current = capsules.filter((c) =>
    c.status === "ok" && picked.has(c.name)
  );
  const installed = await readInstalledDistro(kernel);
  if (
    !flags.force && installed !== null && installed.id === distro.id &&
    installed.version === distro.version &&
    Object.keys(installed.capsules).length === current.length &&
    current.every((c) => installed.capsules[c.name] === c.entry?.hash)
  ) {
    if (flags.json) {
      out(JSON.stringify({ distro: distro.id, outcomes: [], current: true }));
    } else {
      out(
        `${distro.name} ${distro.version} is already installed (${current.length} capsules, sources unchanged since ${installed.resolvedAt}); --force reinstalls`,
      );
    }
    return 0;
  }
  const settings = resolveSettings(
    distro,
    picked,
    chooseValues(distro, picked, flags, interactive),
  );
  const bar = new ProgressBar();
  let done = 0;
  const { outcomes } = await installDistro(kernel, {
    distroFile: file,
    only: picked,
    onProgress: (m) => {
      // On a terminal the bar shows progress; a log gets every line.
      if (!bar.tty || /^(warning|error):/.test(m)) bar.message(`  ${m}`);
    },
    onStep: (s) => {
      if (s.phase === "end") done = s.index;
      bar.update(done, s.total, s.phase === "start" ? s.name : "");
    },
  });
  bar.done();
  // The daemon's permissions follow the installed capsules.
  await afterCapsuleChange();
  const ok = outcomes.filter((o) => o.status === "installed").map((o) =>
    o.name
  );
  await applySettings(
    kernel,
    settings.filter((s) => ok.includes(s.capsule)),
  );
  const openSecrets = flags.json
    ? []
    : await askSecrets(kernel, ok, interactive);
  const providers = ok.filter((n) =>
    distro.capsules.find((c) => c.name === n)?.group === "llm"
  );
  const provider = await setDefaultProvider(
    kernel,
    providers,
    picks["llm"],
    interactive,
  );
  const failed = outcomes.filter((o) => o.status === "failed").length;
  if (flags.json) {
    out(JSON.stringify({ distro: distro.id, outcomes, provider }, null, 2));
    return failed > 0 ? 1 : 0;
  }
  reportOutcomes(distro, outcomes);
  if (provider) {
    out(`default provider: ${provider} (${kernel.home.configToml})`);
  }
  for (const s of openSecrets) {
    out(`not set: ${s} — printf %s "$KEY" | astrid secret set ${s}`);
  }
  return failed > 0 ? 1 : 0;
}
