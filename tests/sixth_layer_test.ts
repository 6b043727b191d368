/**
 * The sixth layer end to end: the daemon's flags computed by `daemonFlags`
 * for a real home, then real `deno run` subprocesses under exactly those
 * flags — a probe that tries to reach what it must not, and the real kernel
 * booting a session and running a js and a wasm capsule.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { daemonFlags } from "../kernel/daemon/deno_flags.ts";
import { startKernel } from "../kernel/daemon/boot.ts";
import { installCapsule } from "../kernel/daemon/install.ts";
import { MemoryEnv } from "../kernel/testing/memory_env.ts";
import { MemoryLogger } from "../kernel/testing/memory_logger.ts";
import { buildCapsule } from "./agent_fixture_test.ts";
import { pinCapsule } from "./test_kernel_test.ts";
import { loadWasmFixtures } from "./wasm_fixtures.ts";
import { npmServer, SERVERS } from "./mcp_fixture_test.ts";

const ROOT = path.resolve(import.meta.dirname ?? ".", "..");
const FIXTURES = path.join(ROOT, "tests", "fixtures", "sixth_layer");
const PERMS: Deno.PermissionOptionsObject = {
  read: true,
  write: true,
  env: true,
  run: true,
  net: true,
};

interface Layout {
  /** The fake user's HOME (holds `.ssh` and `projects/`). */
  readonly user: string;
  readonly home: string;
  readonly ws: string;
  readonly other: string;
  readonly env: Record<string, string>;
  [Symbol.asyncDispose](): Promise<void>;
}

async function layout(): Promise<Layout> {
  const user = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "astrid-sixth-" }),
  );
  const home = path.join(user, ".astrid");
  const ws = path.join(user, "projects", "granted");
  const other = path.join(user, "projects", "other");
  await Deno.mkdir(path.join(home, "etc"), { recursive: true, mode: 0o700 });
  await Deno.mkdir(path.join(user, ".ssh"), { mode: 0o700 });
  await Deno.writeTextFile(
    path.join(user, ".ssh", "id_ed25519"),
    "-----BEGIN OPENSSH PRIVATE KEY-----\nplanted\n",
  );
  await Deno.mkdir(ws, { recursive: true });
  await Deno.mkdir(other, { recursive: true });
  await Deno.writeTextFile(path.join(ws, "hello.txt"), "hi from the root");
  await Deno.writeTextFile(path.join(other, "secret.txt"), "not yours");
  await Deno.writeTextFile(
    path.join(home, "etc", "config.toml"),
    `[workspace]\nmode = "autonomous"\n`,
  );
  const env: Record<string, string> = {
    HOME: user,
    ASTRID_HOME: home,
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    // The real cache: the npm packages are already there.
    DENO_DIR: Deno.env.get("DENO_DIR") ??
      path.join(Deno.env.get("HOME") ?? "/root", ".cache", "deno"),
  };
  return {
    user,
    home,
    ws,
    other,
    env,
    [Symbol.asyncDispose]: () => Deno.remove(user, { recursive: true }),
  };
}

function kernelOf(l: Layout) {
  return startKernel({
    env: new MemoryEnv(l.env),
    ignoreSystemConfig: true,
    inMemoryStore: true,
    logger: new MemoryLogger(),
  });
}

async function runUnder(
  args: readonly string[],
  script: string,
  l: Layout,
  scriptArgs: string[],
): Promise<{ json: Record<string, unknown>; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...args, script, ...scriptArgs],
    env: { ...l.env, UNLISTED_SECRET: "s3cret" },
    clearEnv: true,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, `exit ${out.code}\n${stdout}\n${stderr}`);
  const line = stdout.trim().split("\n").at(-1) ?? "{}";
  return { json: JSON.parse(line), stderr };
}

Deno.test({
  name:
    "sixth layer: under the computed flags a process cannot read ~/.ssh or another project, fetch an ungranted host, read an unlisted variable, run a shell or load FFI — but reads and writes its home and root and reaches the granted host, also through the kernel's pinned fetch",
  permissions: PERMS,
  async fn() {
    await using l = await layout();
    const ac = new AbortController();
    const serve = (text: string) =>
      Deno.serve(
        { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
        () => new Response(text),
      );
    const granted = serve("granted");
    const ungranted = serve("ungranted");
    try {
      {
        await using kernel = await kernelOf(l);
        const dir = path.join(
          kernel.home.home(kernel.principal).capsules,
          "fetcher",
        );
        await Deno.mkdir(dir, { recursive: true });
        await pinCapsule(
          kernel,
          dir,
          `[package]\nname = "fetcher"\nversion = "1.0.0"\n\n[capabilities]\nnet = ["127.0.0.1:${granted.addr.port}", "api.example.com"]\n`,
        );
      }
      const flags = await daemonFlags({
        homeRoot: l.home,
        roots: [l.ws],
        env: l.env,
        ignoreSystemConfig: true,
        bubblewrap: null,
      });
      const { json } = await runUnder(
        flags.args,
        path.join(FIXTURES, "probe.ts"),
        l,
        [JSON.stringify({
          read: {
            ssh: path.join(l.user, ".ssh", "id_ed25519"),
            other: path.join(l.other, "secret.txt"),
            passwd: "/etc/passwd",
            home: path.join(l.home, "etc", "config.toml"),
            root: path.join(l.ws, "hello.txt"),
          },
          write: {
            other: path.join(l.other, "planted.txt"),
            bashrc: path.join(l.user, ".bashrc"),
            home: path.join(l.home, "var-probe.txt"),
            root: path.join(l.ws, "written.txt"),
          },
          fetch: {
            granted: `http://127.0.0.1:${granted.addr.port}/`,
            ungranted: `http://127.0.0.1:${ungranted.addr.port}/`,
            external: "https://example.com/",
          },
          dns: ["api.example.com"],
          pinned: {
            granted: {
              socketDir: path.join(l.home, "run"),
              url: `http://api.example.com:${granted.addr.port}/`,
              address: "127.0.0.1",
            },
            ungranted: {
              socketDir: path.join(l.home, "run"),
              url: `http://api.example.com:${ungranted.addr.port}/`,
              address: "127.0.0.1",
            },
          },
        })],
      );
      assert.deepEqual(json, {
        "read:ssh": "NotCapable",
        "read:other": "NotCapable",
        "read:passwd": "NotCapable",
        "read:home": "ok",
        "read:root": "ok",
        "write:other": "NotCapable",
        "write:bashrc": "NotCapable",
        "write:home": "ok",
        "write:root": "ok",
        "fetch:granted": "ok",
        "fetch:ungranted": "NotCapable",
        "fetch:external": "NotCapable",
        // A named grant lets the kernel ask the DNS servers of resolv.conf.
        "dns:api.example.com": flags.net!.some((e) => e.value.endsWith(":53"))
          ? "asked"
          : "NotCapable",
        "pinned:granted": "ok",
        // The proxy's connection is refused (NotCapable): the fetch fails.
        "pinned:ungranted": json["pinned:ungranted"] === "ok"
          ? "must fail"
          : json["pinned:ungranted"],
        "env:UNLISTED_SECRET": "NotCapable",
        "run:sh": "NotCapable",
        "ffi": "NotCapable",
      });
    } finally {
      ac.abort();
      await granted.finished;
      await ungranted.finished;
    }
  },
});

Deno.test({
  name:
    "sixth layer: the real kernel boots under the computed flags, loads an installed js and wasm capsule and runs their tools on the workspace root",
  permissions: PERMS,
  async fn() {
    await using l = await layout();
    const source = path.join(
      ROOT,
      "tests",
      "fixtures",
      "capsules",
      "agent-tools",
    );
    const bundle = await buildCapsule(source);
    const [wasm] = await loadWasmFixtures("wasm-runtime");
    {
      await using kernel = await kernelOf(l);
      await installCapsule(kernel, {
        source,
        files: { "agent_tools.js": bundle },
      });
      const dir = path.join(
        kernel.home.home(kernel.principal).capsules,
        "wasm-probe",
      );
      await Deno.mkdir(dir, { recursive: true });
      await Deno.writeFile(path.join(dir, "capsule.wasm"), wasm!);
      await pinCapsule(
        kernel,
        dir,
        `[package]\nname = "wasm-probe"\nversion = "1.0.0"\n\n[[component]]\nfile = "capsule.wasm"\ntype = "wasm"\n`,
      );
      const mcpDir = path.join(
        kernel.home.home(kernel.principal).capsules,
        "mcp-probe",
      );
      await Deno.mkdir(mcpDir, { recursive: true });
      const memory = npmServer("memory", SERVERS.memory);
      await Deno.mkdir(path.join(l.ws, "mem"));
      await pinCapsule(
        kernel,
        mcpDir,
        [
          "[package]",
          'name = "mcp-probe"',
          'version = "1.0.0"',
          "[capabilities]",
          'fs_read = ["cwd://mem"]',
          'fs_write = ["cwd://mem"]',
          memory.host,
          "[env.MEMORY_FILE_PATH]",
          'type = "string"',
          `default = ${JSON.stringify(path.join(l.ws, "mem", "memory.jsonl"))}`,
          "",
          memory.server,
        ].join("\n"),
      );
    }
    const flags = await daemonFlags({
      homeRoot: l.home,
      roots: [l.ws],
      env: l.env,
      ignoreSystemConfig: true,
    });
    const { json, stderr } = await runUnder(
      flags.args,
      path.join(FIXTURES, "kernel_under_flags.ts"),
      l,
      [l.ws],
    );
    assert.deepEqual(json.refused, [], stderr);
    assert.deepEqual(json.loaded, ["agent-tools", "mcp-probe", "wasm-probe"]);
    assert.deepEqual(json.result, {
      call_id: "probe-1",
      content: "hi from the root",
      is_error: false,
    });
    assert.deepEqual(json.wasm, { pong: 1 });
    assert.ok(
      JSON.stringify(json.mcp).includes("entities"),
      JSON.stringify(json.mcp),
    );
  },
});
