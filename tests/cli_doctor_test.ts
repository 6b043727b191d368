/**
 * `astrid doctor` end to end: the real CLI as a subprocess on a temp home.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { runAstrid } from "./cli_fixture_test.ts";
import { startKernel } from "../kernel/daemon/boot.ts";
import { MemoryEnv } from "../kernel/testing/memory_env.ts";
import { MemoryLogger } from "../kernel/testing/memory_logger.ts";
import { pinCapsule } from "./test_kernel_test.ts";

const PERMS: Deno.PermissionOptionsObject = {
  read: true,
  write: true,
  env: true,
  run: true,
};

interface Check {
  name: string;
  status: "ok" | "warn" | "fail";
  detail: string;
  fix?: string;
}

/** A home with a key, a file store and an installed capsule (an audited install). */
async function goodHome(): Promise<
  { user: string; home: string; env: Record<string, string> } & AsyncDisposable
> {
  const user = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "astrid-doctor-" }),
  );
  const home = path.join(user, ".astrid");
  const env = { HOME: user, ASTRID_HOME: home };
  {
    await using kernel = await startKernel({
      env: new MemoryEnv(env),
      ignoreSystemConfig: true,
      logger: new MemoryLogger(),
    });
    const dir = path.join(kernel.home.home(kernel.principal).capsules, "web");
    await Deno.mkdir(dir, { recursive: true });
    await pinCapsule(
      kernel,
      dir,
      `[package]\nname = "web"\nversion = "1.0.0"\n\n[capabilities]\nnet = ["127.0.0.1:8080"]\n`,
    );
  }
  return {
    user,
    home,
    env,
    [Symbol.asyncDispose]: () => Deno.remove(user, { recursive: true }),
  };
}

async function doctor(env: Record<string, string>) {
  const run = await runAstrid(["doctor", "--json"], { env });
  const report = JSON.parse(run.stdout) as {
    ok: boolean;
    checks: Check[];
    flags: { args: string[]; net: { value: string; reason: string }[] };
  };
  const by = (name: string) => report.checks.find((c) => c.name === name);
  return { run, report, by };
}

Deno.test({
  name:
    "astrid doctor: a good home passes every check, verifies the audit chain and shows the daemon's flags with reasons",
  permissions: PERMS,
  async fn() {
    await using h = await goodHome();
    const { run, report, by } = await doctor(h.env);
    const bwrapOk = by("bubblewrap")?.status === "ok";
    assert.equal(run.code, bwrapOk ? 0 : 1, run.stderr);
    for (const c of report.checks) {
      if (c.name !== "bubblewrap") {
        assert.equal(c.status, "ok", JSON.stringify(c));
      }
    }
    assert.match(by("audit default")!.detail, /\d+ entries verify/);
    assert.match(by("store")!.detail, /opens/);
    const net = report.flags.args.find((a) => a.startsWith("--allow-net="))!;
    assert.ok(net.split("=")[1]!.split(",").includes("127.0.0.1:8080"), net);
    assert.match(
      report.flags.net.find((e) => e.value === "127.0.0.1:8080")!.reason,
      /capsule 'web' grants net/,
    );
    const text = await runAstrid(["doctor"], { env: h.env });
    assert.match(text.stdout, / {2}--allow-write\n/);
    assert.match(text.stdout, /ASTRID_HOME: state store/);
  },
});

Deno.test({
  name:
    "astrid doctor: a runtime key made 0644 fails with the chmod fix and exit 1",
  permissions: PERMS,
  async fn() {
    await using h = await goodHome();
    const key = path.join(h.home, "keys", "runtime.key");
    await Deno.chmod(key, 0o644);
    const { run, report, by } = await doctor(h.env);
    assert.equal(run.code, 1);
    assert.equal(report.ok, false);
    assert.equal(by("runtime key")!.status, "fail");
    assert.equal(by("runtime key")!.fix, `chmod 600 ${key}`);
    const text = await runAstrid(["doctor"], { env: h.env });
    assert.equal(text.code, 1);
    assert.match(text.stdout, new RegExp(`fix: chmod 600 ${key}`));
  },
});

Deno.test({
  name:
    "astrid doctor: an open home directory and stale daemon files are failures with their fixes; no daemon is started",
  permissions: PERMS,
  async fn() {
    await using h = await goodHome();
    await Deno.chmod(h.home, 0o755);
    const sock = path.join(h.home, "run", "system.sock");
    await Deno.writeTextFile(sock, "");
    const { run, by } = await doctor(h.env);
    assert.equal(run.code, 1);
    assert.equal(by("home")!.fix, `chmod 700 ${h.home}`);
    assert.equal(by("daemon")!.status, "fail");
    assert.match(by("daemon")!.fix!, new RegExp(`rm -f ${sock}`));
    // Still the stale file: doctor repaired nothing and started nothing.
    assert.equal((await Deno.lstat(sock)).isFile, true);
    assert.equal(
      await Deno.lstat(path.join(h.home, "run", "system.ready")).then(
        () => true,
        () => false,
      ),
      false,
    );
  },
});

Deno.test({
  name: "astrid doctor --help describes every check",
  permissions: PERMS,
  async fn() {
    const run = await runAstrid(["doctor", "--help"]);
    assert.equal(run.code, 0);
    for (const word of ["bubblewrap", "audit", "flags", "0600", "stale"]) {
      assert.match(run.stdout, new RegExp(word));
    }
  },
});
