import assert from "node:assert/strict";
import { KernelError } from "../../../core/errors.ts";
import {
  denoLaunchArgs,
  grantedRoots,
  type LaunchGrants,
  type LaunchOptions,
  type McpLaunch,
} from "./launch_flags.ts";

const NONE: LaunchGrants = { fs_read: [], fs_write: [], net: [], env: [] };
const OPTS: LaunchOptions = {
  denoPath: "/opt/deno",
  capsuleDir: "/caps/demo",
  workspace: "/ws",
  principalHome: "/home/p",
  mode: "flags",
};

function deno(launch: McpLaunch): Extract<McpLaunch, { kind: "deno" }> {
  assert.equal(launch.kind, "deno");
  return launch as Extract<McpLaunch, { kind: "deno" }>;
}

function flagsOf(launch: McpLaunch): string[] {
  const d = deno(launch);
  return d.args.slice(0, d.args.indexOf(d.entry));
}

function assertCode(fn: () => unknown, code: string): void {
  assert.throws(
    fn,
    (e: unknown) => e instanceof KernelError && e.code === code,
  );
}

Deno.test({
  name: "`denoLaunchArgs()` derives scoped flags for a typical manifest",
  permissions: "none",
  fn() {
    const launch = denoLaunchArgs(
      { command: "deno", args: ["run", "server.ts", "--verbose"] },
      {
        fs_read: ["cwd://docs", "home://notes", "/data/ref/"],
        fs_write: ["cwd://out"],
        net: ["api.example.com"],
        env: ["API_URL"],
      },
      { ...OPTS, envValues: { API_URL: "https://x", OTHER: "no" } },
    );
    const d = deno(launch);
    assert.equal(d.command, "/opt/deno");
    assert.equal(d.cwd, "/caps/demo");
    assert.deepEqual(d.args, [
      "run",
      "--no-prompt",
      "--deny-import",
      "--no-config",
      "--allow-read=/ws/docs,/home/p/notes,/data/ref,/caps/demo",
      "--allow-write=/ws/out",
      "--allow-net=api.example.com:80,api.example.com:443",
      "--allow-env=API_URL",
      "/caps/demo/server.ts",
      "--verbose",
    ]);
  },
});

Deno.test({
  name:
    "`denoLaunchArgs()` runs npx packages and npm: specifiers by npm: specifier",
  permissions: "none",
  fn() {
    const npx = deno(denoLaunchArgs(
      {
        command: "npx",
        args: ["-y", "@modelcontextprotocol/server-memory", "--x"],
      },
      NONE,
      OPTS,
    ));
    assert.equal(npx.entry, "npm:@modelcontextprotocol/server-memory");
    assert.deepEqual(npx.args.slice(-2), [npx.entry, "--x"]);
    const spec = deno(denoLaunchArgs(
      { command: "npm:@modelcontextprotocol/server-everything@2", args: [] },
      { ...NONE, fs_read: ["*"] },
      OPTS,
    ));
    assert.ok(spec.args.includes("--allow-read=/ws,/caps/demo"));
  },
});

Deno.test({
  name:
    "`denoLaunchArgs()` omits a flag whose list is empty, never a bare flag",
  permissions: "none",
  fn() {
    const flags = flagsOf(
      denoLaunchArgs({ command: "./s.ts", args: [] }, NONE, OPTS),
    );
    assert.deepEqual(flags, [
      "run",
      "--no-prompt",
      "--deny-import",
      "--no-config",
      "--allow-read=/caps/demo",
    ]);
    // home:// without a principal home grants nothing.
    const noHome = flagsOf(denoLaunchArgs(
      { command: "./s.ts", args: [] },
      { ...NONE, fs_write: ["home://x"] },
      {
        denoPath: "/opt/deno",
        capsuleDir: "/c",
        workspace: "/ws",
        mode: "flags",
      },
    ));
    assert.ok(!noHome.some((a) => a.startsWith("--allow-write")));
  },
});

Deno.test({
  name:
    "`denoLaunchArgs()` in broker mode passes no --allow flag and the broker socket",
  permissions: "none",
  fn() {
    const d = deno(denoLaunchArgs(
      { command: "./s.ts", args: [] },
      { fs_read: ["*"], fs_write: ["*"], net: ["*"], env: ["A"] },
      { ...OPTS, mode: "broker", brokerPath: "/run/b.sock" },
    ));
    assert.ok(!d.args.some((a) => a.startsWith("--allow")));
    assert.equal(d.env.DENO_PERMISSION_BROKER_PATH, "/run/b.sock");
    const flags = deno(denoLaunchArgs(
      { command: "./s.ts", args: [] },
      NONE,
      { ...OPTS, brokerPath: "/run/b.sock" },
    ));
    assert.equal(flags.env.DENO_PERMISSION_BROKER_PATH, undefined);
  },
});

Deno.test({
  name:
    "`denoLaunchArgs()` scrubs the environment to granted names and Deno's own",
  permissions: "none",
  fn() {
    const d = deno(denoLaunchArgs(
      { command: "./s.ts", args: [] },
      { ...NONE, env: ["API_URL", "MISSING"] },
      {
        ...OPTS,
        denoDir: "/cache/deno",
        envValues: { API_URL: "u", SECRET_TOKEN: "t", PATH: "/bin" },
      },
    ));
    assert.deepEqual({ ...d.env }, {
      API_URL: "u",
      DENO_NO_UPDATE_CHECK: "1",
      NO_COLOR: "1",
      DENO_DIR: "/cache/deno",
    });
    assert.ok(d.args.includes("--allow-env=API_URL,MISSING"));
  },
});

Deno.test({
  name: "`denoLaunchArgs()` refuses env names that steer Deno (broker hijack)",
  permissions: "none",
  fn() {
    for (
      const name of [
        "DENO_PERMISSION_BROKER_PATH",
        "deno_dir",
        "LD_PRELOAD",
        "NPM_CONFIG_REGISTRY",
        "A,B",
        "*",
        "",
      ]
    ) {
      assertCode(
        () =>
          denoLaunchArgs({ command: "./s.ts", args: [] }, {
            ...NONE,
            env: [name],
          }, {
            ...OPTS,
            envValues: { [name]: "/tmp/evil.sock" },
          }),
        "MANIFEST_INVALID",
      );
    }
  },
});

Deno.test({
  name:
    "`denoLaunchArgs()` refuses server-supplied Deno flags and other subcommands",
  permissions: "none",
  fn() {
    for (
      const args of [
        ["run", "-A", "s.ts"],
        ["run", "--allow-run", "s.ts"],
        ["eval", "1"],
        ["run"],
        [],
      ]
    ) {
      assertCode(
        () => denoLaunchArgs({ command: "deno", args }, NONE, OPTS),
        "MANIFEST_INVALID",
      );
    }
  },
});

Deno.test({
  name:
    "`denoLaunchArgs()` refuses remote, out-of-capsule and comma-smuggling entries",
  permissions: "none",
  fn() {
    const bad: Array<[string, readonly string[], LaunchGrants]> = [
      ["deno", ["run", "https://evil.example/s.ts"], NONE],
      ["deno", ["run", "../other/s.ts"], NONE],
      ["/elsewhere/s.ts", [], NONE],
      ["./s.ts", [], { ...NONE, fs_read: ["/data,/etc"] }],
      ["./s.ts", [], { ...NONE, net: ["a.com,evil.com"] }],
      ["./s.ts", [], { ...NONE, net: ["*"] }],
    ];
    for (const [command, args, grants] of bad) {
      assertCode(
        () => denoLaunchArgs({ command, args }, grants, OPTS),
        "MANIFEST_INVALID",
      );
    }
  },
});

Deno.test({
  name: "`denoLaunchArgs()` returns needs_sandbox for non-Deno commands",
  permissions: "none",
  fn() {
    for (const command of ["python3", "/usr/bin/node", "uvx", "server.py"]) {
      const r = denoLaunchArgs({ command, args: ["-m", "x"] }, NONE, OPTS);
      assert.deepEqual(r, {
        kind: "needs_sandbox",
        command,
        args: ["-m", "x"],
      });
    }
  },
});

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

Deno.test({
  name:
    "`denoLaunchArgs()` never emits a forbidden or bare flag (random manifests)",
  permissions: "none",
  fn() {
    const rnd = lcg(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const paths = [
      "*",
      "cwd://a",
      "home://b",
      "/abs",
      "rel",
      "/x,y",
      "cwd://../up",
      "-A",
    ];
    const hosts = ["a.com", "*", "1.2.3.4:80", "x y", "--allow-all", "[::1]"];
    const envs = ["A", "B_2", "DENO_DIR", "LD_PRELOAD", "-A", "X=Y"];
    const servers: Array<[string, string[]]> = [
      ["deno", ["run", "s.ts", "-A", "--allow-run"]],
      ["deno", ["run", "--allow-all", "s.ts"]],
      ["npx", ["-y", "pkg", "--allow-ffi"]],
      ["npm:pkg", ["--allow-sys"]],
      ["./s.ts", []],
    ];
    let ok = 0;
    let allowFlags = 0;
    for (let i = 0; i < 2000; i++) {
      const n = () => Math.floor(rnd() * 4);
      const grants: LaunchGrants = {
        fs_read: Array.from({ length: n() }, () => pick(paths)),
        fs_write: Array.from({ length: n() }, () => pick(paths)),
        net: Array.from({ length: n() }, () => pick(hosts)),
        env: Array.from({ length: n() }, () => pick(envs)),
      };
      const [command, args] = pick(servers);
      const mode = rnd() < 0.5 ? "flags" : "broker";
      let launch: McpLaunch;
      try {
        launch = denoLaunchArgs({ command, args }, grants, { ...OPTS, mode });
      } catch (e) {
        assert.ok(e instanceof KernelError && e.code === "MANIFEST_INVALID");
        continue;
      }
      ok += 1;
      for (const flag of flagsOf(launch)) {
        assert.ok(
          !/^(-A|--allow-all|--allow-run|--allow-ffi|--allow-sys|--allow-import)/
            .test(flag),
          flag,
        );
        if (flag.startsWith("--allow-")) {
          allowFlags += 1;
          assert.equal(mode, "flags");
          assert.match(flag, /^--allow-(read|write|net|env)=[^,]+(,[^,]+)*$/);
        }
      }
    }
    assert.ok(allowFlags > 100, `only ${allowFlags} --allow flags seen`);
    assert.ok(ok > 100, `only ${ok} manifests were accepted`);
  },
});

Deno.test({
  name:
    "`grantedRoots()` lists read roots with the capsule dir and write roots",
  permissions: "none",
  fn() {
    assert.deepEqual(
      grantedRoots({
        ...NONE,
        fs_read: ["cwd://a", "cwd://a/"],
        fs_write: ["*"],
      }, OPTS),
      { read: ["/ws/a", "/caps/demo"], write: ["/ws"] },
    );
  },
});

Deno.test({
  name:
    "`grantedRoots()` refuses a `..` component that would leave the workspace",
  permissions: "none",
  fn() {
    for (const entry of ["cwd://../etc", "home://a/../../etc", "/ws/../etc"]) {
      assertCode(
        () => grantedRoots({ ...NONE, fs_read: [entry] }, OPTS),
        "MANIFEST_INVALID",
      );
    }
  },
});

Deno.test({
  name:
    "`denoLaunchArgs()` in flags mode limits a port-less net grant to ports 80 and 443 (Deno's bare host would allow every port)",
  permissions: "none",
  fn() {
    const d = deno(denoLaunchArgs(
      { command: "deno", args: ["run", "server.ts"] },
      {
        fs_read: [],
        fs_write: [],
        net: ["api.example.com", "db.example.com:5432", "2001:db8::1"],
        env: [],
      },
      { ...OPTS, mode: "flags" },
    ));
    assert.ok(
      d.args.includes(
        "--allow-net=api.example.com:80,api.example.com:443,db.example.com:5432,[2001:db8::1]:80,[2001:db8::1]:443",
      ),
      d.args.join(" "),
    );
  },
});
