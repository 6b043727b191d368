/**
 * End-to-end: the `astrid` CLI as a real subprocess with its own ASTRID_HOME.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { type Run, runAstrid } from "./cli_fixture_test.ts";

const PERMS = { read: true, write: true, env: true, run: true } as const;

function astrid(
  args: string[],
  env: Record<string, string>,
): Promise<Run> {
  return runAstrid(args, { env });
}

async function withHome(
  fn: (env: Record<string, string>, root: string) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "astrid-cli-" });
  try {
    await fn({ ASTRID_HOME: path.join(root, "home"), HOME: root }, root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test({
  name: "astrid --version prints the version and exits 0",
  permissions: PERMS,
  async fn() {
    await withHome(async (env) => {
      const r = await astrid(["--version"], env);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^astrid \d+\.\d+\.\d+ \(deno 2\./);
    });
  },
});

Deno.test({
  name: "astrid with an unknown command exits 2 with a usage error",
  permissions: PERMS,
  async fn() {
    await withHome(async (env) => {
      const r = await astrid(["frobnicate"], env);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /error\[USAGE\]: Unknown command 'frobnicate'/);
      const f = await astrid(["config", "show", "--bogus"], env);
      assert.equal(f.code, 2);
    });
  },
});

Deno.test({
  name:
    "astrid keys generate writes a 0600 key; keys show reads the same key; a second generate is refused",
  permissions: PERMS,
  async fn() {
    await withHome(async (env) => {
      const missing = await astrid(["keys", "show"], env);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /error\[KEY_NOT_FOUND\]/);
      const gen = await astrid(["keys", "generate", "--json"], env);
      assert.equal(gen.code, 0, gen.stderr);
      const made = JSON.parse(gen.stdout);
      assert.equal((await Deno.stat(made.file)).mode! & 0o777, 0o600);
      const shown = JSON.parse(
        (await astrid(["keys", "show", "--json"], env)).stdout,
      );
      assert.deepEqual(shown, made);
      const again = await astrid(["keys", "generate"], env);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /error\[KEY_EXISTS\]/);
    });
  },
});

Deno.test({
  name:
    "astrid keys show refuses a world-readable key file with KEY_PERMISSIONS_TOO_OPEN",
  permissions: PERMS,
  async fn() {
    await withHome(async (env) => {
      const made = JSON.parse(
        (await astrid(["keys", "generate", "--json"], env)).stdout,
      );
      await Deno.chmod(made.file, 0o644);
      const r = await astrid(["keys", "show"], env);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /error\[KEY_PERMISSIONS_TOO_OPEN\]/);
    });
  },
});

Deno.test({
  name:
    "astrid config show reports each value's layer: env beats user file, workspace tightens",
  permissions: PERMS,
  async fn() {
    await withHome(async (env, root) => {
      await Deno.mkdir(path.join(env.ASTRID_HOME!, "etc"), { recursive: true });
      await Deno.writeTextFile(
        path.join(env.ASTRID_HOME!, "etc/config.toml"),
        "[budget]\nsession_max_usd = 50\n",
      );
      const ws = path.join(root, "ws");
      await Deno.mkdir(path.join(ws, ".astrid"), { recursive: true });
      await Deno.writeTextFile(
        path.join(ws, ".astrid/config.toml"),
        "[budget]\nsession_max_usd = 20\n",
      );
      const r = await astrid(["config", "show", "--json", "--workspace", ws], {
        ...env,
        ASTRID_LOG_LEVEL: "debug",
      });
      assert.equal(r.code, 0, r.stderr);
      const byKey = new Map(
        (JSON.parse(r.stdout) as {
          key: string;
          value: unknown;
          layer: string;
        }[]).map((e) => [e.key, e]),
      );
      assert.deepEqual([
        byKey.get("budget.session_max_usd")?.value,
        byKey.get("budget.session_max_usd")?.layer,
      ], [20, "workspace"]);
      assert.deepEqual([
        byKey.get("logging.level")?.value,
        byKey.get("logging.level")?.layer,
      ], ["debug", "env"]);
      assert.equal(byKey.get("workspace.mode")?.layer, "defaults");
    });
  },
});

Deno.test({
  name:
    "astrid config validate exits 1 naming file and key when the workspace loosens the budget",
  permissions: PERMS,
  async fn() {
    await withHome(async (env, root) => {
      const ws = path.join(root, "ws");
      await Deno.mkdir(path.join(ws, ".astrid"), { recursive: true });
      await Deno.writeTextFile(
        path.join(ws, ".astrid/config.toml"),
        "[budget]\nsession_max_usd = 5000\n",
      );
      const r = await astrid(["config", "validate", "--workspace", ws], env);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /error\[CONFIG_WIDENING\].*budget\.session_max_usd/s,
      );
      assert.match(r.stderr, /5000/);
    });
  },
});

Deno.test({
  name:
    "astrid demo kernel walks through the foundations offline in a throwaway home and cleans up after itself",
  permissions: PERMS,
  async fn() {
    await withHome(async (env) => {
      const r = await astrid(["demo", "kernel"], env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /verify\(tampered\)\s+false/);
      assert.match(
        r.stdout,
        /after restart: \{"text":"hello from before the restart"\}/,
      );
      assert.match(r.stdout, /refused: error\[CONFIG_WIDENING\]/);
      assert.match(r.stdout, /booted: demo-notes, demo-wasm/);
      assert.match(r.stdout, /wasm read \/etc\/passwd\s+DENIED/);
      assert.match(r.stdout, /in the workspace before commit\? no/);
      assert.match(r.stdout, /audit chain: \d+ entries, valid/);
      const home = await Deno.stat(env.ASTRID_HOME!).catch(() => null);
      assert.equal(
        home,
        null,
        "the demo never touches the caller's ASTRID_HOME",
      );
    });
  },
});

Deno.test({
  name:
    "astrid demo is a real agent run: tools through the gate, the edit in the overlay until a gated commit, the injection refused, the chain valid",
  permissions: PERMS,
  async fn() {
    await withHome(async (env) => {
      const r = await astrid(["demo"], env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /→ read_file \{"path":"notes.md"\}/);
      assert.match(r.stdout, /notes.md on disk: "Teh quick/);
      assert.match(r.stdout, /\+The quick brown fox/);
      assert.match(r.stdout, /committed: write notes.md/);
      assert.match(r.stdout, /notes.md on disk now: "The quick/);
      assert.equal(
        (r.stdout.match(/✖ refused\/failed/g) ?? []).length,
        5,
        "each injected attempt is refused",
      );
      assert.match(r.stdout, /POLICY_BLOCKED/);
      assert.match(r.stdout, /MANIFEST_DENIED/);
      assert.match(r.stdout, /\d+ entries, valid ✔/);
      assert.match(r.stdout, /✔ demo finished/);
      assert.equal(await Deno.stat(env.ASTRID_HOME!).catch(() => null), null);
    });
  },
});

Deno.test({
  name: "astrid demo with an unknown part is a usage error",
  permissions: PERMS,
  async fn() {
    await withHome(async (env) => {
      const r = await astrid(["demo", "nope"], env);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /Unknown demo 'nope'/);
    });
  },
});
