import assert from "node:assert/strict";
import { KernelError } from "../../../core/errors.ts";
import type { LaunchGrants } from "./launch_flags.ts";
import {
  SANDBOX_PATH,
  type SandboxLaunch,
  sandboxLaunchArgs,
  type SandboxOptions,
} from "./sandbox_launch.ts";

const NONE: LaunchGrants = { fs_read: [], fs_write: [], net: [], env: [] };
const OPTS: SandboxOptions = {
  bwrapPath: "/usr/bin/bwrap",
  capsuleDir: "/caps/py",
  workspace: "/ws",
  writableDir: "/scratch/py",
  principalHome: "/home/p",
  hiddenDirs: ["/home/a/.astrid"],
};
const SERVER = { command: "python3", args: ["server.py", "--stdio"] };

function bwrap(
  launch: SandboxLaunch,
): Extract<SandboxLaunch, { kind: "bwrap" }> {
  assert.equal(launch.kind, "bwrap");
  return launch as Extract<SandboxLaunch, { kind: "bwrap" }>;
}

/** The `[flag, path]` pairs of mount options, in order. */
function mounts(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--ro-bind-try" || a === "--bind") {
      out.push(`${a} ${args[i + 1]}`);
    }
    if (a === "--tmpfs" || a === "--remount-ro") {
      out.push(`${a} ${args[i + 1]}`);
    }
  }
  return out;
}

function assertCode(fn: () => unknown, code: string, pattern?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof KernelError, String(e));
    assert.equal(e.code, code);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

Deno.test({
  name:
    "`sandboxLaunchArgs()` builds the full bwrap argv for a typical manifest",
  permissions: "none",
  fn() {
    const launch = bwrap(sandboxLaunchArgs(SERVER, {
      ...NONE,
      fs_read: ["cwd://docs", "home://notes"],
      fs_write: ["cwd://out"],
    }, OPTS));
    assert.equal(launch.command, "/usr/bin/bwrap");
    assert.equal(launch.cwd, "/caps/py");
    assert.equal(launch.warning, undefined);
    assert.deepEqual(launch.args, [
      "--unshare-all",
      "--die-with-parent",
      "--new-session",
      "--cap-drop",
      "ALL",
      "--ro-bind",
      "/",
      "/",
      "--dev",
      "/dev",
      "--proc",
      "/proc",
      "--tmpfs",
      "/run",
      "--tmpfs",
      "/tmp",
      "--tmpfs",
      "/ws",
      "--ro-bind-try",
      "/ws/docs",
      "/ws/docs",
      "--ro-bind-try",
      "/ws/out",
      "/ws/out",
      "--bind",
      "/scratch/py",
      "/scratch/py",
      "--tmpfs",
      "/home/a/.astrid",
      "--remount-ro",
      "/run",
      "--remount-ro",
      "/ws",
      "--remount-ro",
      "/home/a/.astrid",
      "--chdir",
      "/caps/py",
      "--",
      "python3",
      "server.py",
      "--stdio",
    ]);
  },
});

Deno.test({
  name:
    "`sandboxLaunchArgs()` shares the network only with a net grant, and warns that hosts are not filtered",
  permissions: "none",
  fn() {
    const closed = bwrap(sandboxLaunchArgs(SERVER, NONE, OPTS));
    assert.ok(!closed.args.includes("--share-net"));
    assert.ok(closed.args.includes("--unshare-all"));
    assert.ok(
      !mounts(closed.args).includes("--ro-bind-try /run/systemd/resolve"),
    );
    const open = bwrap(sandboxLaunchArgs(SERVER, {
      ...NONE,
      net: ["api.example.com:443"],
    }, OPTS));
    assert.deepEqual(open.args.slice(0, 2), ["--unshare-all", "--share-net"]);
    assert.match(
      open.warning ?? "",
      /whole network.*api\.example\.com:443.*cannot filter/,
    );
    assert.ok(mounts(open.args).includes("--ro-bind-try /run/systemd/resolve"));
    const star = bwrap(
      sandboxLaunchArgs(SERVER, { ...NONE, net: ["*"] }, OPTS),
    );
    assert.ok(star.args.includes("--share-net"));
  },
});

Deno.test({
  name:
    "`sandboxLaunchArgs()` keeps hidden dirs hidden from grants, but for the capsule dir and home:// grants inside them",
  permissions: "none",
  fn() {
    const launch = bwrap(sandboxLaunchArgs(SERVER, {
      ...NONE,
      fs_read: [
        "/home/a/.astrid",
        "/home/a",
        "/home/a/.astrid/keys",
        "home://notes",
      ],
      fs_write: ["/home/a/.astrid/run"],
    }, {
      ...OPTS,
      capsuleDir: "/home/a/.astrid/capsules/py",
      principalHome: "/home/a/.astrid/home/p",
    }));
    const m = mounts(launch.args);
    const hidden = m.indexOf("--tmpfs /home/a/.astrid");
    assert.ok(hidden >= 0);
    for (
      const kept of [
        "/home/a/.astrid",
        "/home/a/.astrid/keys",
        "/home/a/.astrid/run",
      ]
    ) {
      assert.ok(!m.includes(`--ro-bind-try ${kept}`), kept);
    }
    assert.ok(
      !m.includes("--ro-bind-try /home/a"),
      "not masked: ro root shows it",
    );
    for (
      const inside of [
        "/home/a/.astrid/home/p/notes",
        "/home/a/.astrid/capsules/py",
      ]
    ) {
      assert.ok(m.indexOf(`--ro-bind-try ${inside}`) > hidden, inside);
    }
    assert.equal(m.at(-1), "--remount-ro /home/a/.astrid");
  },
});

Deno.test({
  name:
    "`sandboxLaunchArgs()` binds writableDir rw after the masks above it and never remounts it read-only",
  permissions: "none",
  fn() {
    const launch = bwrap(sandboxLaunchArgs(SERVER, NONE, {
      ...OPTS,
      writableDir: "/home/a/.astrid/scratch/s1/py",
      hiddenDirs: ["/home/a/.astrid", "/home/a/.astrid/scratch/s1/py/keys"],
    }));
    const m = mounts(launch.args);
    const bind = m.indexOf("--bind /home/a/.astrid/scratch/s1/py");
    assert.ok(bind > m.indexOf("--tmpfs /home/a/.astrid"));
    assert.ok(bind < m.indexOf("--tmpfs /home/a/.astrid/scratch/s1/py/keys"));
    assert.ok(!m.includes("--remount-ro /home/a/.astrid/scratch/s1/py"));
    assert.ok(!m.includes("--remount-ro /tmp"), "/tmp stays a private scratch");
  },
});

Deno.test({
  name:
    "`sandboxLaunchArgs()` leaves the workspace unmasked when a grant covers it",
  permissions: "none",
  fn() {
    for (const entry of ["*", "cwd://", "/"]) {
      const launch = bwrap(
        sandboxLaunchArgs(SERVER, { ...NONE, fs_read: [entry] }, OPTS),
      );
      assert.ok(!mounts(launch.args).includes("--tmpfs /ws"), entry);
      assert.ok(mounts(launch.args).includes("--tmpfs /home/a/.astrid"), entry);
    }
  },
});

Deno.test({
  name:
    "`sandboxLaunchArgs()` scrubs the env to granted names plus a fixed PATH, HOME and TMPDIR, and keeps values out of argv",
  permissions: "none",
  fn() {
    const launch = bwrap(sandboxLaunchArgs(SERVER, {
      ...NONE,
      env: ["API_KEY", "PATH", "HOME", "MISSING"],
    }, {
      ...OPTS,
      envValues: {
        API_KEY: "sk-secret",
        PATH: "/evil/bin",
        HOME: "/root",
        OTHER: "not granted",
      },
    }));
    assert.deepEqual(launch.env, {
      API_KEY: "sk-secret",
      PATH: SANDBOX_PATH,
      HOME: "/scratch/py",
      TMPDIR: "/scratch/py",
    });
    assert.ok(!launch.args.some((a) => a.includes("sk-secret")));
    assert.ok(!launch.args.includes("--setenv"));
    for (const bad of ["LD_PRELOAD", "DENO_DIR", "1X", "A-B"]) {
      assertCode(
        () => sandboxLaunchArgs(SERVER, { ...NONE, env: [bad] }, OPTS),
        "MANIFEST_INVALID",
      );
    }
  },
});

Deno.test({
  name:
    "`sandboxLaunchArgs()` refuses to launch without bubblewrap unless the capsule is unconfined",
  permissions: "none",
  fn() {
    assertCode(
      () => sandboxLaunchArgs(SERVER, NONE, { ...OPTS, bwrapPath: null }),
      "HOST_PERMISSION_DENIED",
      /bubblewrap is not available.*install bubblewrap.*unconfined/,
    );
    assertCode(
      () =>
        sandboxLaunchArgs(SERVER, NONE, {
          ...OPTS,
          bwrapPath: null,
          unconfined: false,
        }),
      "HOST_PERMISSION_DENIED",
    );
  },
});

Deno.test({
  name:
    "`sandboxLaunchArgs()` passes an unconfined capsule through with a scrubbed env, and still confines it when bwrap exists",
  permissions: "none",
  fn() {
    const launch = sandboxLaunchArgs(
      { command: "./bin/server", args: ["--x"] },
      { ...NONE, env: ["TOKEN"] },
      {
        ...OPTS,
        bwrapPath: null,
        unconfined: true,
        envValues: { TOKEN: "t", OTHER: "o" },
      },
    );
    assert.equal(launch.kind, "unconfined");
    assert.equal(launch.command, "/caps/py/bin/server");
    assert.deepEqual(launch.args, ["--x"]);
    assert.equal(launch.cwd, "/caps/py");
    assert.deepEqual(launch.env, {
      TOKEN: "t",
      PATH: SANDBOX_PATH,
      HOME: "/scratch/py",
      TMPDIR: "/scratch/py",
    });
    assert.match(launch.warning ?? "", /unconfined/);
    const confined = sandboxLaunchArgs(SERVER, NONE, {
      ...OPTS,
      unconfined: true,
    });
    assert.equal(confined.kind, "bwrap");
  },
});

Deno.test({
  name:
    "`sandboxLaunchArgs()` resolves commands: bare names on the sandbox PATH, relative ones inside the capsule dir",
  permissions: "none",
  fn() {
    const tail = (command: string) =>
      bwrap(sandboxLaunchArgs({ command, args: [] }, NONE, OPTS)).args.at(-1);
    assert.equal(tail("python3"), "python3");
    assert.equal(tail("/usr/bin/python3"), "/usr/bin/python3");
    assert.equal(tail("./server.py"), "/caps/py/server.py");
    assert.equal(tail("bin//srv"), "/caps/py/bin/srv");
    for (const bad of ["../other/server", "./a/../../x", "", "-x", "./"]) {
      assertCode(
        () => sandboxLaunchArgs({ command: bad, args: [] }, NONE, OPTS),
        "MANIFEST_INVALID",
      );
    }
  },
});

Deno.test({
  name:
    "`sandboxLaunchArgs()` refuses privilege-changing commands such as sudo and su",
  permissions: "none",
  fn() {
    for (
      const command of [
        "sudo",
        "su",
        "/usr/bin/sudo",
        "doas",
        "pkexec",
        "runuser",
      ]
    ) {
      assertCode(
        () => sandboxLaunchArgs({ command, args: ["id"] }, NONE, OPTS),
        "MANIFEST_INVALID",
        /changes privileges/,
      );
    }
  },
});

Deno.test({
  name:
    "`sandboxLaunchArgs()` rejects malformed grants and relative or unsafe paths",
  permissions: "none",
  fn() {
    assertCode(
      () =>
        sandboxLaunchArgs(SERVER, { ...NONE, fs_read: ["cwd://../etc"] }, OPTS),
      "MANIFEST_INVALID",
    );
    assertCode(
      () => sandboxLaunchArgs(SERVER, { ...NONE, net: ["bad host/"] }, OPTS),
      "MANIFEST_INVALID",
    );
    assert.throws(
      () => sandboxLaunchArgs(SERVER, NONE, { ...OPTS, workspace: "ws" }),
      TypeError,
    );
    assert.throws(
      () => sandboxLaunchArgs(SERVER, NONE, { ...OPTS, writableDir: "/" }),
      TypeError,
    );
    assert.throws(
      () => sandboxLaunchArgs(SERVER, NONE, { ...OPTS, hiddenDirs: ["/"] }),
      TypeError,
    );
    assert.throws(
      () =>
        sandboxLaunchArgs(SERVER, NONE, {
          ...OPTS,
          hiddenDirs: ["/scratch/py/"],
        }),
      TypeError,
    );
  },
});
