/**
 * `astrid mcp wrap`: the consent and integrity doors, driving the real CLI
 * as a subprocess in a throwaway home — usage errors, the install that
 * needs approval, the reused install, and the host-launched form refusing
 * what was never approved or changed since (no daemon is started here: every
 * refusal happens before it; the relay is `mcp_wrap_relay_test.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { type Run, runAstrid } from "./cli_fixture_test.ts";
import { SERVERS } from "./mcp_fixture_test.ts";

const PERMS: Deno.PermissionOptionsObject = {
  read: true,
  write: true,
  env: true,
  run: true,
  net: true,
};

interface Home {
  readonly root: string;
  readonly ws: string;
  readonly docs: string;
  readonly capsules: string;
  wrap(args: readonly string[], stdin?: string): Promise<Run>;
}

async function withHome(fn: (h: Home) => Promise<void>): Promise<void> {
  const root = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "astrid-wrap-" }),
  );
  const ws = path.join(root, "ws");
  const docs = path.join(ws, "docs");
  await Deno.mkdir(docs, { recursive: true });
  await Deno.writeTextFile(path.join(docs, "a.txt"), "alpha");
  const env = { HOME: root, ASTRID_HOME: path.join(root, "astrid") };
  try {
    await fn({
      root,
      ws,
      docs,
      capsules: path.join(root, "astrid/home/default/.local/capsules"),
      wrap: (args, stdin) =>
        runAstrid(["mcp", "wrap", ...args], {
          cwd: ws,
          env,
          ...(stdin === undefined ? {} : { stdin }),
        }),
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

const FS_CMD = (dir: string) => ["npx", "-y", SERVERS.filesystem, dir];

function installedName(stderr: string): string {
  const m = stderr.match(/Capsule '([a-z0-9-]+)'/);
  assert.ok(m, stderr);
  return m[1]!;
}

Deno.test({
  name:
    "astrid mcp wrap: '--' missing or an empty command is a usage error (exit 2)",
  permissions: PERMS,
  async fn() {
    await withHome(async (h) => {
      for (
        const args of [
          FS_CMD(h.docs),
          ["--install-only"],
          ["--"],
          ["--install-only", "--"],
          ["--", ""],
        ]
      ) {
        const r = await h.wrap(args);
        assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, /error\[USAGE\]/);
      }
    });
  },
});

Deno.test({
  name:
    "astrid mcp wrap --install-only: without a terminal and without --yes nothing is installed (APPROVAL_DENIED); the generated manifest is written for review and grants only the named dir",
  permissions: PERMS,
  async fn() {
    await withHome(async (h) => {
      const r = await h.wrap(["--install-only", "--", ...FS_CMD("./docs")]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /error\[APPROVAL_DENIED\]/);
      const name = installedName(r.stderr);
      const file = r.stderr.match(/Generated (\S+Capsule\.toml)/)?.[1];
      assert.ok(file, r.stderr);
      const toml = await Deno.readTextFile(file);
      assert.match(toml, new RegExp(`fs_read = \\["${h.docs}"\\]`));
      assert.doesNotMatch(toml, /fs_write|net|\[env\./);
      await assert.rejects(Deno.stat(path.join(h.capsules, name)));
    });
  },
});

Deno.test({
  name:
    "astrid mcp wrap: the host-launched form refuses a server that was never installed (CAPSULE_NOT_FOUND) and names the --install-only line",
  permissions: PERMS,
  async fn() {
    await withHome(async (h) => {
      const r = await h.wrap(["--", ...FS_CMD(h.docs)]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /error\[CAPSULE_NOT_FOUND\]/);
      assert.match(
        r.stderr,
        new RegExp(`astrid mcp wrap --install-only -w ${h.ws} -- npx`),
      );
      assert.equal(r.stdout, "", "stdout is the MCP channel");
    });
  },
});

Deno.test({
  name:
    "astrid mcp wrap --install-only --yes installs a signed capsule granting exactly the named dir; the same line again reuses it; another dir is another capsule, not installed",
  permissions: PERMS,
  async fn() {
    await withHome(async (h) => {
      const r = await h.wrap([
        "--install-only",
        "--yes",
        "--",
        ...FS_CMD(h.docs),
      ]);
      assert.equal(r.code, 0, r.stderr);
      const name = installedName(r.stderr);
      const meta = JSON.parse(
        await Deno.readTextFile(path.join(h.capsules, name, "meta.json")),
      );
      assert.deepEqual(meta.grants.fs_read, [h.docs]);
      assert.deepEqual(meta.grants.fs_write, []);
      assert.deepEqual(meta.grants.net, []);
      assert.deepEqual(Object.keys(meta.artifacts), ["Capsule.toml"]);
      const again = await h.wrap([
        "--install-only",
        "--",
        ...FS_CMD(h.docs),
      ]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, /Already installed and unchanged/);
      const updated = JSON.parse(
        await Deno.readTextFile(path.join(h.capsules, name, "meta.json")),
      );
      assert.equal(updated.updated_at, meta.updated_at, "not reinstalled");
      const other = await h.wrap(["--", ...FS_CMD(h.ws)]);
      assert.equal(other.code, 1);
      assert.match(other.stderr, /CAPSULE_NOT_FOUND/);
    });
  },
});

function reviewed(name: string, fsRead: string, cmd: readonly string[]) {
  return [
    "[package]",
    `name = "${name}"`,
    'version = "1.0.0"',
    "[capabilities]",
    `fs_read = [${JSON.stringify(fsRead)}]`,
    `host_process = [${
      JSON.stringify(
        cmd[0] === "npx" ? `npx -y ${SERVERS.filesystem}` : cmd.join(" "),
      )
    }]`,
    "[[mcp_server]]",
    'id = "server"',
    `command = ${JSON.stringify(cmd[0])}`,
    `args = ${JSON.stringify(cmd.slice(1))}`,
    "",
  ].join("\n");
}

Deno.test({
  name:
    "astrid mcp wrap --manifest: a manifest edited after install is refused by the host-launched form (pins), until it is approved again",
  permissions: PERMS,
  async fn() {
    await withHome(async (h) => {
      const dir = path.join(h.root, "review");
      await Deno.mkdir(dir);
      const file = path.join(dir, "Capsule.toml");
      const cmd = FS_CMD(h.ws);
      await Deno.writeTextFile(file, reviewed("files", h.docs, cmd));
      const ok = await h.wrap([
        "--install-only",
        "--yes",
        "--manifest",
        file,
        "--",
        ...cmd,
      ]);
      assert.equal(ok.code, 0, ok.stderr);
      // Widened after the approval: the whole workspace.
      await Deno.writeTextFile(file, reviewed("files", h.ws, cmd));
      const r = await h.wrap(["--manifest", file, "--", ...cmd]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /error\[CAPSULE_INTEGRITY\]/);
      assert.match(r.stderr, /Capsule\.toml' differs/);
      const meta = JSON.parse(
        await Deno.readTextFile(path.join(h.capsules, "files", "meta.json")),
      );
      assert.deepEqual(meta.grants.fs_read, [h.docs], "still the approved one");
      // A file added beside the manifest is pinned too.
      await Deno.writeTextFile(file, reviewed("files", h.docs, cmd));
      await Deno.writeTextFile(path.join(dir, "extra.js"), "1");
      const added = await h.wrap(["--manifest", dir, "--", ...cmd]);
      assert.equal(added.code, 1, added.stderr);
      assert.match(added.stderr, /extra\.js' differs/);
    });
  },
});

Deno.test({
  name:
    "astrid mcp wrap: an installed capsule tampered with in ASTRID_HOME is refused as boot refuses it",
  permissions: PERMS,
  async fn() {
    await withHome(async (h) => {
      const r = await h.wrap([
        "--install-only",
        "--yes",
        "--",
        ...FS_CMD(h.docs),
      ]);
      assert.equal(r.code, 0, r.stderr);
      const name = installedName(r.stderr);
      const installed = path.join(h.capsules, name, "Capsule.toml");
      const text = await Deno.readTextFile(installed);
      await Deno.writeTextFile(
        installed,
        text.replace(`fs_read = ["${h.docs}"]`, `fs_read = ["${h.root}"]`),
      );
      const host = await h.wrap(["--", ...FS_CMD(h.docs)]);
      assert.equal(host.code, 1, host.stderr);
      assert.match(host.stderr, /error\[CAPSULE_INTEGRITY\].*does not match/);
      assert.doesNotMatch(host.stderr, new RegExp(`${h.root}/astrid`));
    });
  },
});

Deno.test({
  name:
    "astrid mcp wrap --install-only: a generated manifest edited for review is never overwritten nor installed silently",
  permissions: PERMS,
  async fn() {
    await withHome(async (h) => {
      const first = await h.wrap(["--install-only", "--", ...FS_CMD(h.docs)]);
      const file = first.stderr.match(/Generated (\S+Capsule\.toml)/)?.[1];
      assert.ok(file, first.stderr);
      const edited = (await Deno.readTextFile(file)).replace(
        `fs_read = ["${h.docs}"]`,
        `fs_read = ["${h.ws}"]`,
      );
      await Deno.writeTextFile(file, edited);
      const r = await h.wrap([
        "--install-only",
        "--yes",
        "--",
        ...FS_CMD(h.docs),
      ]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /error\[MANIFEST_INVALID\].*was edited.*--manifest/,
      );
      assert.equal(await Deno.readTextFile(file), edited);
    });
  },
});

Deno.test({
  name:
    "astrid mcp wrap: the wrapped command must be one the engine launches — a script outside the capsule, deno's own flags, a binary without a manifest, or a manifest running another command are refused",
  permissions: PERMS,
  async fn() {
    await withHome(async (h) => {
      const dir = path.join(h.root, "review");
      await Deno.mkdir(dir);
      const file = path.join(dir, "Capsule.toml");
      const cases: [readonly string[], string | null, RegExp][] = [
        [["deno", "run", "/etc/evil.ts"], "deno", /outside the capsule dir/],
        [["deno", "run", "-A", "npm:x@1.0.0"], "deno", /own flags/],
        [["deno", "run", "https://e.vil/x.ts"], "deno", /only local scripts/],
        [["python3", "server.py"], null, /only npm servers/],
        [["deno", "run", "../ws/x.ts"], null, /--manifest/],
      ];
      for (const [cmd, manifest, pattern] of cases) {
        if (manifest !== null) {
          await Deno.writeTextFile(file, reviewed("evil", h.docs, cmd));
        }
        const r = await h.wrap([
          "--install-only",
          "--yes",
          ...(manifest !== null ? ["--manifest", file] : []),
          "--",
          ...cmd,
        ]);
        assert.equal(r.code, 1, `${cmd.join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, /error\[MANIFEST_INVALID\]/);
        assert.match(r.stderr, pattern);
      }
      await Deno.writeTextFile(file, reviewed("evil", h.docs, FS_CMD(h.docs)));
      const other = await h.wrap([
        "--manifest",
        file,
        "--",
        ...FS_CMD(h.ws),
      ]);
      assert.equal(other.code, 1);
      assert.match(
        other.stderr,
        /must declare exactly one \[\[mcp_server\]\] that runs the command/,
      );
      await assert.rejects(Deno.stat(path.join(h.capsules, "evil")));
    });
  },
});

Deno.test({
  name:
    "astrid mcp wrap --install-only --learn: server-filesystem is run once under the recording broker; the env name it reads joins the manifest and the host's line, nothing else is added",
  permissions: PERMS,
  async fn() {
    await withHome(async (h) => {
      const r = await h.wrap([
        "--install-only",
        "--learn",
        "--yes",
        "--",
        ...FS_CMD(h.docs),
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /listed \d+ tools/);
      assert.match(
        r.stderr,
        new RegExp(
          `astrid mcp wrap -w ${h.ws} --env __MINIMATCH_TESTING_PLATFORM__ -- npx -y ${SERVERS.filesystem} ${h.docs}`,
        ),
      );
      const name = installedName(r.stderr);
      const meta = JSON.parse(
        await Deno.readTextFile(path.join(h.capsules, name, "meta.json")),
      );
      assert.deepEqual(meta.grants.fs_read, [h.docs]);
      assert.deepEqual(meta.grants.fs_write, []);
      assert.deepEqual(meta.grants.net, []);
      assert.deepEqual(meta.grants.env, ["__MINIMATCH_TESTING_PLATFORM__"]);
      // --learn only shapes a generated manifest, once, in a terminal.
      for (
        const args of [
          ["--learn", "--", ...FS_CMD(h.docs)],
          ["--install-only", "--learn", "--manifest", h.ws, "--", "x"],
        ]
      ) {
        const bad = await h.wrap(args);
        assert.equal(bad.code, 2, bad.stderr);
      }
    });
  },
});
