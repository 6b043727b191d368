import assert from "node:assert/strict";
import { bwrapArgs } from "./bwrap_args.ts";

/** `[flag, ...operands]` groups of the mount part, in order. */
function mounts(args: readonly string[]): string[][] {
  const arity: Record<string, number> = {
    "--ro-bind": 2,
    "--ro-bind-try": 2,
    "--bind": 2,
    "--dev": 1,
    "--proc": 1,
    "--tmpfs": 1,
    "--remount-ro": 1,
  };
  const out: string[][] = [];
  for (let i = 0; i < args.length && args[i] !== "--"; i++) {
    const n = arity[args[i]!];
    if (n === undefined) continue;
    out.push(args.slice(i, i + 1 + n));
    i += n;
  }
  return out;
}

Deno.test({
  name:
    "`bwrapArgs()` binds a workspace view under /tmp after the private /tmp and hides the kernel's home",
  permissions: "none",
  fn() {
    const args = bwrapArgs({
      command: "sh",
      args: ["-c", "true"],
      chdir: "/tmp/x/ws",
      workspace: "/tmp/x/ws",
      workspaceView: "/home/a/.astrid/var/spawn/s/1/merged",
      hiddenDirs: ["/home/a/.astrid"],
    });
    assert.deepEqual(mounts(args), [
      ["--ro-bind", "/", "/"],
      ["--dev", "/dev"],
      ["--proc", "/proc"],
      ["--tmpfs", "/run"],
      ["--tmpfs", "/tmp"],
      ["--bind", "/home/a/.astrid/var/spawn/s/1/merged", "/tmp/x/ws"],
      ["--tmpfs", "/home/a/.astrid"],
      ["--remount-ro", "/run"],
      ["--remount-ro", "/home/a/.astrid"],
    ]);
    assert.deepEqual(args.slice(0, 6), [
      "--unshare-all",
      "--die-with-parent",
      "--new-session",
      "--cap-drop",
      "ALL",
      "--ro-bind",
    ]);
  },
});

Deno.test({
  name:
    "`bwrapArgs()` keeps the kernel's home hidden when it lies inside the workspace view",
  permissions: "none",
  fn() {
    const args = bwrapArgs({
      command: "ls",
      args: [],
      chdir: "/home/a",
      workspace: "/home/a",
      workspaceView: "/scratch/merged",
      hiddenDirs: ["/home/a/.astrid"],
    });
    const m = mounts(args);
    const view = m.findIndex((x) => x[0] === "--bind" && x[2] === "/home/a");
    const mask = m.findIndex((x) =>
      x[0] === "--tmpfs" && x[1] === "/home/a/.astrid"
    );
    assert.ok(view >= 0 && mask > view, JSON.stringify(m));
  },
});

Deno.test({
  name: "`bwrapArgs()` shares the network only when asked",
  permissions: "none",
  fn() {
    const spec = { command: "true", args: [], chdir: "/", workspace: "/" };
    assert.ok(!bwrapArgs(spec).includes("--share-net"));
    assert.deepEqual(bwrapArgs({ ...spec, net: true }).slice(0, 2), [
      "--unshare-all",
      "--share-net",
    ]);
  },
});
