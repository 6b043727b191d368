import assert from "node:assert/strict";
import { createDenoSpawner } from "../../../host/deno_spawner.ts";
import { findBubblewrap } from "../../sandbox/find_bwrap.ts";
import type { LaunchGrants } from "./launch_flags.ts";
import {
  SANDBOX_PATH,
  sandboxLaunchArgs,
  type SandboxOptions,
} from "./sandbox_launch.ts";

const spawner = createDenoSpawner();
const BWRAP = await findBubblewrap(spawner);
const NONE: LaunchGrants = { fs_read: [], fs_write: [], net: [], env: [] };
const PERMS = { read: true, write: true, run: true } as const;

/** A kernel-like layout in a temp dir: keys in a hidden home, a workspace, a scratch dir. */
interface Layout extends AsyncDisposable {
  readonly root: string;
  readonly home: string;
  readonly keys: string;
  readonly options: SandboxOptions;
}

async function layout(): Promise<Layout> {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "sbx_" }));
  const home = `${root}/astrid`;
  const capsuleDir = `${home}/capsules/demo`;
  const workspace = `${root}/ws`;
  const writableDir = `${root}/scratch`;
  const principalHome = `${home}/home/p`;
  const dirs = [`${home}/keys`, `${principalHome}/notes`, capsuleDir];
  for (const d of [...dirs, `${workspace}/out`, writableDir]) {
    await Deno.mkdir(d, { recursive: true });
  }
  await Deno.writeTextFile(`${home}/keys/secret.key`, "KEYDATA");
  await Deno.writeTextFile(`${principalHome}/notes/n.txt`, "NOTES");
  await Deno.writeTextFile(`${principalHome}/private.txt`, "PRIVATE");
  await Deno.writeTextFile(`${workspace}/readme.txt`, "WORKSPACE");
  await Deno.writeTextFile(`${root}/outside.txt`, "OUTSIDE");
  await Deno.writeTextFile(`${capsuleDir}/tool.sh`, "echo CAPSULE-TOOL\n");
  return {
    root,
    home,
    keys: `${home}/keys`,
    options: {
      bwrapPath: BWRAP,
      capsuleDir,
      workspace,
      writableDir,
      principalHome,
      hiddenDirs: [home],
    },
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

/** Runs `command args` under the sandbox and returns its exit code and output. */
async function run(
  l: Layout,
  command: string,
  args: readonly string[],
  grants: LaunchGrants = NONE,
  extra: Partial<SandboxOptions> = {},
): Promise<{ code: number; out: string; err: string }> {
  const launch = sandboxLaunchArgs({ command, args }, grants, {
    ...l.options,
    ...extra,
  });
  assert.equal(launch.kind, "bwrap");
  const res = await spawner.output(launch.command, {
    args: launch.args,
    env: launch.env,
    cwd: launch.cwd,
  });
  const dec = new TextDecoder();
  return {
    code: res.code,
    out: dec.decode(res.stdout),
    err: dec.decode(res.stderr),
  };
}

const sh = (
  l: Layout,
  script: string,
  grants?: LaunchGrants,
  extra?: Partial<SandboxOptions>,
) => run(l, "sh", ["-c", script], grants, extra);

Deno.test({
  name:
    "`sandboxLaunchArgs()` under real bwrap: writes land only in writableDir; granted workspace paths are read-only",
  ignore: BWRAP === null,
  permissions: PERMS,
  async fn() {
    await using l = await layout();
    const ws = l.options.workspace;
    const r = await sh(
      l,
      `cat ${ws}/readme.txt
       echo x > ${ws}/hacked.txt && echo WROTE-WS
       echo x > ${ws}/out/hacked.txt && echo WROTE-OUT
       echo x > /etc/hacked && echo WROTE-ETC
       echo x > "$HOME/ok.txt" && echo WROTE-SCRATCH
       echo x > ./tool.sh && echo WROTE-CAPSULE
       sh ./tool.sh`,
      { ...NONE, fs_read: ["*"], fs_write: ["cwd://out"] },
    );
    assert.match(r.out, /WORKSPACE/);
    assert.match(r.out, /WROTE-SCRATCH/);
    assert.match(r.out, /CAPSULE-TOOL/);
    assert.doesNotMatch(r.out, /WROTE-(WS|OUT|ETC|CAPSULE)/);
    assert.match(r.err, /Read-only file system/);
    assert.equal(
      await Deno.readTextFile(`${l.options.writableDir}/ok.txt`),
      "x\n",
    );
    for (const p of [`${ws}/hacked.txt`, `${ws}/out/hacked.txt`]) {
      await assert.rejects(Deno.stat(p), Deno.errors.NotFound);
    }
  },
});

Deno.test({
  name:
    "`sandboxLaunchArgs()` under real bwrap: /tmp is private and an un-granted workspace is unreadable",
  ignore: BWRAP === null,
  permissions: PERMS,
  async fn() {
    await using l = await layout();
    const marker = `${l.root}/from-sandbox`;
    const r = await sh(
      l,
      `cat ${l.root}/outside.txt; cat ${l.options.workspace}/readme.txt
       echo x > /tmp/t && echo TMP-OK; echo x > ${marker} && echo MARKER`,
    );
    assert.doesNotMatch(r.out, /OUTSIDE|WORKSPACE/);
    assert.match(r.out, /TMP-OK/);
    await assert.rejects(Deno.stat(marker), Deno.errors.NotFound);
  },
});

Deno.test({
  name:
    "`sandboxLaunchArgs()` under real bwrap: hidden dirs stay empty even when granted, and cannot be unmounted",
  ignore: BWRAP === null,
  permissions: PERMS,
  async fn() {
    await using l = await layout();
    const r = await sh(
      l,
      `ls -A ${l.home}; cat ${l.keys}/secret.key
       umount ${l.home} || umount -l ${l.home}; cat ${l.keys}/secret.key
       cat ${l.home}/home/p/notes/n.txt ${l.home}/home/p/private.txt
       grep -E '^(CapEff|NoNewPrivs)' /proc/self/status; ls -A /run | wc -l`,
      {
        ...NONE,
        fs_read: [l.home, l.keys, `${l.keys}/secret.key`, "home://notes"],
      },
    );
    assert.doesNotMatch(r.out, /KEYDATA|keys|PRIVATE/);
    assert.match(
      r.out,
      /NOTES/,
      "a home:// grant inside the hidden home is bound back",
    );
    assert.match(r.out, /CapEff:\s+0+\n/);
    assert.match(r.out, /NoNewPrivs:\s+1/);
    assert.match(r.out, /^0$/m, "/run shows no host sockets");
    assert.match(
      r.out,
      /capsules/,
      "the capsule dir inside the hidden home is bound back",
    );
  },
});

Deno.test({
  name:
    "`sandboxLaunchArgs()` under real bwrap: /proc/self/environ holds only the granted env (and bwrap's PWD)",
  ignore: BWRAP === null,
  permissions: PERMS,
  async fn() {
    await using l = await layout();
    const r = await run(l, "cat", ["/proc/self/environ"], {
      ...NONE,
      env: ["GRANTED"],
    }, {
      envValues: { GRANTED: "yes", SECRET: "hunter2" },
    });
    assert.equal(r.code, 0, r.err);
    const scratch = l.options.writableDir;
    assert.deepEqual(
      r.out.split("\0").filter((s) => s !== "").sort(),
      [
        `HOME=${scratch}`,
        "GRANTED=yes",
        `PATH=${SANDBOX_PATH}`,
        `TMPDIR=${scratch}`,
        `PWD=${l.options.capsuleDir}`,
      ].sort(),
    );
  },
});

Deno.test({
  name:
    "`sandboxLaunchArgs()` under real bwrap: the child sees only its own processes",
  ignore: BWRAP === null,
  permissions: PERMS,
  async fn() {
    await using l = await layout();
    const r = await sh(
      l,
      `test -e /proc/${Deno.pid} && echo SEES-PARENT; kill -0 ${Deno.pid} 2>/dev/null && echo CAN-SIGNAL
       ls /proc | grep -c '^[0-9][0-9]*$'`,
    );
    assert.doesNotMatch(r.out, /SEES-PARENT|CAN-SIGNAL/);
    const count = Number(r.out.trim().split("\n").at(-1));
    assert.ok(count >= 1 && count <= 4, `processes visible: ${count}`);
  },
});

const FETCH = "import sys, urllib.request\n" +
  "try:\n  print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())\n" +
  "except Exception as e:\n  print('FAILED', type(e).__name__, e)\n";

Deno.test({
  name:
    "`sandboxLaunchArgs()` under real bwrap: loopback is unreachable without a net grant and reachable with one",
  ignore: BWRAP === null,
  permissions: { ...PERMS, net: true },
  async fn() {
    await using l = await layout();
    await using server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response("HOST-SECRET"),
    );
    const url = `http://127.0.0.1:${server.addr.port}/`;
    const closed = await run(l, "python3", ["-c", FETCH, url]);
    assert.match(closed.out, /^FAILED/, closed.err);
    const open = await run(l, "python3", ["-c", FETCH, url], {
      ...NONE,
      net: ["127.0.0.1"],
    });
    assert.equal(open.out.trim(), "HOST-SECRET", open.err);
  },
});
