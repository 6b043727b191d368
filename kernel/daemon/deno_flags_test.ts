import assert from "node:assert/strict";
import * as path from "node:path";
import { KernelError } from "../core/errors.ts";
import { MemoryEnv } from "../testing/memory_env.ts";
import { MemoryLogger } from "../testing/memory_logger.ts";
import { startKernel } from "./boot.ts";
import { pinCapsule } from "../../tests/test_kernel_test.ts";
import { daemonFlags, type DaemonFlagsInput } from "./deno_flags.ts";

const PERMS: Deno.PermissionOptionsObject = {
  read: true,
  write: true,
  env: true,
  run: true,
};

interface Home {
  readonly root: string;
  readonly home: string;
  readonly ws: string;
  readonly env: Record<string, string>;
  install(name: string, capabilities: string[]): Promise<void>;
  flags(extra?: Partial<DaemonFlagsInput>): ReturnType<typeof daemonFlags>;
  [Symbol.asyncDispose](): Promise<void>;
}

async function makeHome(config = ""): Promise<Home> {
  const root = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "astrid-flags-" }),
  );
  const home = path.join(root, "astrid");
  const ws = path.join(root, "ws");
  await Deno.mkdir(path.join(home, "etc"), { recursive: true, mode: 0o700 });
  await Deno.mkdir(ws);
  await Deno.writeTextFile(path.join(home, "etc", "config.toml"), config);
  const env = { HOME: root, ASTRID_HOME: home, DENO_DIR: `${root}/deno` };
  return {
    root,
    home,
    ws,
    env,
    async install(name, capabilities) {
      await using kernel = await startKernel({
        env: new MemoryEnv(env),
        ignoreSystemConfig: true,
        inMemoryStore: true,
        logger: new MemoryLogger(),
      });
      const dir = path.join(
        home,
        "home",
        "default",
        ".local",
        "capsules",
        name,
      );
      await Deno.mkdir(dir, { recursive: true });
      await pinCapsule(
        kernel,
        dir,
        `[package]\nname = "${name}"\nversion = "1.0.0"\n\n[capabilities]\n${
          capabilities.join("\n")
        }\n`,
      );
    },
    flags: (extra = {}) =>
      daemonFlags({
        homeRoot: home,
        roots: [],
        env,
        ignoreSystemConfig: true,
        bubblewrap: null,
        nameservers: ["10.9.9.53"],
        resolve: (host) =>
          Promise.resolve(host === "api.example.com" ? ["192.0.2.7"] : []),
        logger: new MemoryLogger(),
        ...extra,
      }),
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

function flag(args: readonly string[], name: string): string[] | undefined {
  const a = args.find((x) =>
    x === `--allow-${name}` || x.startsWith(`--allow-${name}=`)
  );
  return a === undefined
    ? undefined
    : a.slice(`--allow-${name}=`.length).split(",");
}

Deno.test({
  name:
    "daemonFlags: with no roots and no capsules the daemon may read and write only its home, read the npm cache and the wasm worker, and reach no host (only its own Unix sockets)",
  permissions: PERMS,
  async fn() {
    await using h = await makeHome();
    const f = await h.flags();
    assert.deepEqual(flag(f.args, "write"), [h.home]);
    const read = flag(f.args, "read")!;
    assert.equal(read[0], h.home);
    assert.ok(read.includes(`${h.root}/deno/npm`));
    assert.ok(read.some((r) => r.endsWith("/wasm/plugin_worker.ts")));
    assert.equal(read.length, 3);
    // Only the kernel's own Unix sockets, by exact path, in run/.
    const net = flag(f.args, "net")!;
    assert.ok(net.includes(`unix:${h.home}/run/system.sock`));
    assert.ok(net.includes(`unix:${h.home}/run/f-0.sock`));
    assert.ok(net.includes(`unix:${h.home}/run/mcp-127.sock`));
    for (const v of net) assert.ok(v.startsWith(`unix:${h.home}/run/`), v);
    assert.deepEqual(flag(f.args, "run"), [Deno.execPath()]);
    assert.ok(flag(f.args, "env")!.includes("ASTRID_*"));
    assert.ok(f.args.includes("--no-prompt"));
    assert.ok(f.args.includes("--deny-import"));
    for (const a of f.args) {
      assert.doesNotMatch(
        a,
        /^(-A|--allow-all|--allow-ffi|--allow-sys|--allow-import)/,
      );
    }
    assert.deepEqual(f.sys, []);
    assert.ok(f.config?.endsWith("/deno.json"));
    for (const e of [...f.read, ...f.write, ...f.env, ...f.run]) {
      assert.ok(e.reason.length > 0, `${e.value} has a reason`);
    }
  },
});

Deno.test({
  name:
    "daemonFlags: the roots of workspace.roots and of the caller are read and written",
  permissions: PERMS,
  async fn() {
    await using h = await makeHome(
      `[workspace]\nroots = ["/srv/projects/a"]\n`,
    );
    const f = await h.flags({ roots: [h.ws] });
    assert.deepEqual(flag(f.args, "write"), [h.home, "/srv/projects/a", h.ws]);
    assert.deepEqual(f.roots, ["/srv/projects/a", h.ws]);
  },
});

Deno.test({
  name:
    "daemonFlags: a relative root, '/', a root with '..', a comma or a newline is refused with CONFIG_INVALID",
  permissions: PERMS,
  async fn() {
    await using h = await makeHome();
    for (
      const root of [
        "projects",
        "/",
        "/srv/../etc",
        "/srv/a,/home/u/.ssh",
        "/srv/a\n--allow-all",
      ]
    ) {
      await assert.rejects(
        h.flags({ roots: [root] }),
        (e) => e instanceof KernelError && e.code === "CONFIG_INVALID",
        root,
      );
    }
  },
});

Deno.test({
  name:
    "daemonFlags: a root with a comma in workspace.roots is refused with CONFIG_INVALID naming the key",
  permissions: PERMS,
  async fn() {
    await using h = await makeHome(
      `[workspace]\nroots = ["/srv/a,/root"]\n`,
    );
    await assert.rejects(
      h.flags(),
      (e) =>
        e instanceof KernelError && e.code === "CONFIG_INVALID" &&
        /workspace\.roots/.test(e.message) && /comma/.test(e.message),
    );
  },
});

Deno.test({
  name:
    "daemonFlags: net is the union of the installed capsules' grants (names, subdomains, current addresses) and the provider host, plus the DNS server",
  permissions: PERMS,
  async fn() {
    await using h = await makeHome(
      `[model]\napi_url = "https://llm.internal:8443/v1"\n`,
    );
    await h.install("weather", ['net = ["api.example.com"]']);
    await h.install("local", ['net = ["127.0.0.1:8080", "[::1]:9000"]']);
    const f = await h.flags();
    const net = flag(f.args, "net")!.filter((v) => !v.startsWith("unix:"));
    assert.deepEqual(
      new Set(net),
      new Set([
        "127.0.0.1:8080",
        "[::1]:9000",
        "api.example.com",
        "*.api.example.com",
        "192.0.2.7",
        "llm.internal:8443",
        "10.9.9.53:53",
      ]),
    );
    const why = f.net!.find((e) => e.value === "192.0.2.7")!.reason;
    assert.match(why, /capsule 'weather' grants net 'api\.example\.com'/);
    assert.match(
      f.net!.find((e) => e.value === "llm.internal:8443")!.reason,
      /model\.api_url/,
    );
  },
});

Deno.test({
  name:
    "daemonFlags: a capsule granting net '*' gives an unrestricted --allow-net, with the reason noted",
  permissions: PERMS,
  async fn() {
    await using h = await makeHome();
    await h.install("open", ['net = ["*"]']);
    const f = await h.flags();
    assert.equal(f.net, null);
    assert.ok(f.args.includes("--allow-net"));
    assert.ok(f.notes.some((n) => /capsule 'open' grants net '\*'/.test(n)));
  },
});

Deno.test({
  name:
    "daemonFlags: a hostile manifest host with a comma, '=' or a newline adds no flag: the capsule is skipped",
  permissions: PERMS,
  async fn() {
    await using h = await makeHome();
    await h.install("good", ['net = ["api.example.com"]']);
    const dir = path.join(h.home, "home/default/.local/capsules/evil");
    await h.install("evil", ['net = ["evil.example.com"]']);
    // The signed record pins the manifest; rewriting it breaks the pin.
    await Deno.writeTextFile(
      path.join(dir, "Capsule.toml"),
      `[package]\nname = "evil"\nversion = "1.0.0"\n\n[capabilities]\nnet = ["a.com,--allow-all", "b.com=1", "c.com\\n--allow-run"]\nhost_process = ["sh,/bin/bash"]\n`,
    );
    const f = await h.flags();
    const joined = f.args.join(" ");
    assert.doesNotMatch(joined, /a\.com|b\.com|c\.com|evil|bash|allow-all/);
    assert.equal(f.args.filter((a) => a.startsWith("--allow-net")).length, 1);
    assert.ok(f.skipped.some((s) => s.capsule === "evil"));
    assert.ok(flag(f.args, "net")!.includes("api.example.com"));
  },
});

Deno.test({
  name:
    "daemonFlags: bubblewrap, and unshare for a capsule that may spawn processes, are in --allow-run; the spawned commands are not while bubblewrap confines them",
  permissions: PERMS,
  async fn() {
    await using h = await makeHome();
    await h.install("shell", ['host_process = ["git status"]']);
    const f = await h.flags({ bubblewrap: "/usr/bin/bwrap" });
    assert.deepEqual(flag(f.args, "run"), [
      Deno.execPath(),
      "/usr/bin/bwrap",
      "/usr/bin/unshare",
    ]);
  },
});

Deno.test({
  name:
    "daemonFlags: without bubblewrap and with security.allow_unsandboxed_spawn the granted command is in --allow-run",
  permissions: PERMS,
  async fn() {
    await using h = await makeHome(
      `[security]\nallow_unsandboxed_spawn = true\n`,
    );
    await h.install("shell", ['host_process = ["git status"]']);
    const f = await h.flags();
    assert.ok(flag(f.args, "run")!.includes("git"));
    assert.match(f.run.find((e) => e.value === "git")!.reason, /unsandboxed/);
  },
});

Deno.test({
  name:
    "daemonFlags: variables the config references are in --allow-env, and nothing else outside the named list",
  permissions: PERMS,
  async fn() {
    await using h = await makeHome(
      `[model]\napi_key = "\${MY_PROVIDER_KEY}"\n`,
    );
    const f = await h.flags({
      env: { ...h.env, MY_PROVIDER_KEY: "k", UNRELATED_SECRET: "s" },
    });
    const env = flag(f.args, "env")!;
    assert.ok(env.includes("MY_PROVIDER_KEY"));
    assert.ok(!env.includes("UNRELATED_SECRET"));
    assert.ok(env.includes("HOME") && env.includes("DENO_DIR"));
  },
});

Deno.test({
  name:
    "daemonFlags: a root that is a symlink to '/' is refused; a root holding the user's home is noted",
  permissions: PERMS,
  async fn() {
    await using h = await makeHome();
    const link = path.join(h.root, "everything");
    await Deno.symlink("/", link);
    await assert.rejects(
      h.flags({ roots: [link] }),
      (e) =>
        e instanceof KernelError && e.code === "CONFIG_INVALID" &&
        /real path/.test(e.message),
    );
    const f = await h.flags({ roots: [h.root] });
    assert.ok(f.notes.some((n) => n.includes("holds your home directory")));
  },
});

Deno.test({
  name:
    "daemonFlags: a provider URL whose host has a comma is refused with CONFIG_INVALID, never split",
  permissions: PERMS,
  async fn() {
    await using h = await makeHome(
      `[model]\napi_url = "https://a,b.example/v1"\n`,
    );
    await assert.rejects(
      h.flags(),
      (e) =>
        e instanceof KernelError && e.code === "CONFIG_INVALID" &&
        /model\.api_url/.test(e.message),
    );
  },
});

Deno.test({
  name:
    "daemonFlags: an installed MCP capsule's absolute fs grants become readable by the daemon (never writable); its workspace-relative grants and other capsules' grants add nothing",
  permissions: PERMS,
  async fn() {
    await using h = await makeHome();
    await h.install("wrapped", [
      'fs_read = ["/srv/data/", "cwd://docs"]',
      'fs_write = ["/srv/out"]',
      'host_process = ["npx -y pkg@1.0.0"]',
      "[[mcp_server]]",
      'id = "s"',
      'command = "npx"',
      'args = ["-y", "pkg@1.0.0", "/srv/data"]',
    ]);
    await h.install("plain", ['fs_read = ["/srv/js"]']);
    const f = await h.flags();
    const read = flag(f.args, "read")!;
    assert.ok(read.includes("/srv/data"), read.join());
    assert.ok(read.includes("/srv/out"), read.join());
    assert.ok(!read.includes("/srv/js"), read.join());
    assert.ok(!read.some((r) => r.includes("cwd:") || r.endsWith("/docs")));
    assert.deepEqual(flag(f.args, "write"), [h.home]);
    const entry = f.read.find((e) => e.value === "/srv/data");
    assert.match(entry!.reason, /capsule 'wrapped' grants its MCP servers/);
  },
});

Deno.test({
  name:
    "daemonFlags of a cluster node: the store's server only (its Unix socket by exact path, or its host:port), the PG* variables its client reads, and the shared overlay root read/write; nothing of it without store.url",
  permissions: PERMS,
  async fn() {
    const overlays = await Deno.realPath(await Deno.makeTempDir());
    try {
      await using h = await makeHome(
        `[store]\nurl = "postgres://astrid@localhost:5433/db?host=/run/pg"\n[cluster]\noverlay_root = "${overlays}"\n`,
      );
      const f = await h.flags();
      const net = flag(f.args, "net")!;
      assert.ok(net.includes("unix:/run/pg/.s.PGSQL.5433"), net.join());
      assert.ok(flag(f.args, "read")!.includes("/run/pg/.s.PGSQL.5433"));
      assert.ok(flag(f.args, "write")!.includes(overlays));
      assert.ok(flag(f.args, "read")!.includes(overlays));
      assert.ok(flag(f.args, "env")!.includes("PG*"));
      await using tcp = await makeHome(
        `[store]\nurl = "postgres://astrid@db.internal/astrid"\n`,
      );
      const t = await tcp.flags({
        resolve: (host) =>
          Promise.resolve(host === "db.internal" ? ["192.0.2.9"] : []),
      });
      const tnet = flag(t.args, "net")!;
      assert.ok(tnet.includes("db.internal:5432"), tnet.join());
      await using none = await makeHome();
      const n = await none.flags();
      assert.ok(!flag(n.args, "env")!.includes("PG*"));
      assert.ok(!flag(n.args, "net")!.some((v) => v.includes("PGSQL")));
    } finally {
      await Deno.remove(overlays, { recursive: true });
    }
  },
});
