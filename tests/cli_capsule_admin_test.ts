/**
 * `astrid capsule list|tree|update|remove` in process against the real admin
 * API of a real kernel, and {@linkcode afterCapsuleChange} against a real
 * Unix socket.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { KernelError } from "../kernel/core/errors.ts";
import { startApiFixture } from "../kernel/api/_api_fixture_test.ts";
import type { ApiClient } from "../kernel/api/client.ts";
import type { ProgressEvent } from "../kernel/api/contract.ts";
import { parseFlags } from "../cli/flags.ts";
import { capsuleCommand } from "../cli/commands/capsule.ts";
import {
  afterCapsuleChange,
  type DaemonControl,
  socketDaemonControl,
} from "../cli/commands/capsule_change.ts";
import { capture } from "./cli_capture_test.ts";
import { runAstrid } from "./cli_fixture_test.ts";
import {
  exists,
  killHomeDaemon,
  spawnDaemonProcess,
  tempHome,
} from "./daemon_fixture_test.ts";

async function staticCapsule(
  parent: string,
  name: string,
  extra: string,
): Promise<string> {
  const dir = path.join(parent, name);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    path.join(dir, "Capsule.toml"),
    `[package]\nname = "${name}"\nversion = "0.1.0"\ndescription = "${name} for tests"\n${extra}`,
  );
  return dir;
}

async function install(client: ApiClient, source: string): Promise<void> {
  let last: ProgressEvent | undefined;
  for await (
    const e of client.stream<ProgressEvent>("capsulesInstall", {
      body: { source },
    })
  ) last = e;
  assert.equal(last?.type, "done", last?.message);
}

/** A daemon control that records restarts of the fixture's (in-process) daemon. */
function recordingControl(_client: ApiClient): DaemonControl & {
  restarts: number;
} {
  return {
    restarts: 0,
    restart() {
      this.restarts++;
      return Promise.resolve("restarted" as const);
    },
  };
}

function run(argv: string[], client: ApiClient, control: DaemonControl) {
  const { positionals, flags } = parseFlags(argv);
  return capture(() =>
    capsuleCommand(
      positionals.slice(1),
      flags,
      () => Promise.resolve(client),
      control,
    )
  );
}

Deno.test("astrid capsule list, tree, update and remove work through the daemon; update and remove restart a running daemon", async () => {
  await using f = await startApiFixture({ prefix: "cli-capsule-admin-" });
  const src = path.join(f.tk.root, "src");
  await install(
    f.client,
    await staticCapsule(src, "lib-a", `[exports.astrid]\nthing = "1.0.0"\n`),
  );
  await install(
    f.client,
    await staticCapsule(
      src,
      "user-b",
      `[imports.astrid]\nthing = "^1.0"\n[capabilities]\nnet = ["api.example.com"]\n`,
    ),
  );
  const control = recordingControl(f.client);

  const listed = await run(["capsule", "list"], f.client, control);
  assert.equal(listed.result, 0, listed.stderr);
  assert.match(listed.stdout, /Installed capsules \(2\)/);
  assert.match(listed.stdout, /user-b 0\.1\.0 \[static\] — user-b for tests/);
  assert.match(listed.stdout, /may:\s+connect to: api\.example\.com/);
  assert.ok(listed.stdout.includes(`source:    ${path.join(src, "lib-a")}`));

  const tree = await run(["capsule", "tree"], f.client, control);
  assert.match(tree.stdout, /astrid\/thing \^1\.0 -> lib-a \(1\.0\.0\)/);
  assert.match(tree.stdout, /Load order: lib-a -> user-b/);

  const updated = await run(["capsule", "update", "user-b"], f.client, control);
  assert.equal(updated.result, 0, updated.stderr);
  assert.match(updated.stdout, /Installed user-b@0\.1\.0/);
  assert.match(updated.stderr, /installing and signing the install record/);
  assert.equal(control.restarts, 1);

  await assert.rejects(
    () => run(["capsule", "remove", "lib-a"], f.client, control),
    (err: unknown) => KernelError.is(err, "CAPSULE_RESOLVE"),
  );
  const forced = await run(
    ["capsule", "remove", "lib-a", "--force"],
    f.client,
    control,
  );
  assert.equal(forced.result, 0);
  assert.match(forced.stderr, /user-b now miss an interface only lib-a/);
  assert.equal(control.restarts, 2);

  await assert.rejects(
    () => run(["capsule", "update", "lib-a"], f.client, control),
    (err: unknown) => KernelError.is(err, "CAPSULE_NOT_FOUND"),
  );
});

Deno.test("afterCapsuleChange: nothing without a daemon; a persistent daemon is restarted (new process, same roots), an ephemeral one stopped", async () => {
  await using h = await tempHome();
  const control = socketDaemonControl(h.env);
  assert.equal(await afterCapsuleChange(control), "none");
  const first = await spawnDaemonProcess(h);
  const { result, stderr } = await capture(() => afterCapsuleChange(control));
  assert.equal(result, "restarted");
  assert.match(stderr, /restarted with permissions/);
  await first.exit;
  const ready = JSON.parse(await Deno.readTextFile(h.files.ready));
  assert.notEqual(ready.pid, first.pid);
  assert.equal(ready.ephemeral, false);
  assert.deepEqual(ready.roots, [h.workspace]);
  await killHomeDaemon(h.files);
  await spawnDaemonProcess(h, { ephemeral: true });
  assert.equal(await afterCapsuleChange(control), "stopped");
  assert.equal(await exists(h.files.socket), false);
});

Deno.test("astrid capsule install --unconfined records the operator's approval in the signed record (and the audit); an npm: source is refused with a way out", async () => {
  await using h = await tempHome();
  const dir = path.join(h.dir, "srv");
  await Deno.mkdir(dir);
  await Deno.writeTextFile(
    path.join(dir, "Capsule.toml"),
    [
      "[package]",
      'name = "native-srv"',
      'version = "1.0.0"',
      "[capabilities]",
      'host_process = ["/usr/bin/true"]',
      "[[mcp_server]]",
      'id = "srv"',
      'command = "/usr/bin/true"',
      "",
    ].join("\n"),
  );
  const r = await runAstrid(["capsule", "install", dir, "--unconfined"], {
    env: h.env,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /WITHOUT bubblewrap/);
  const meta = JSON.parse(
    await Deno.readTextFile(
      path.join(h.home, "home/default/.local/capsules/native-srv/meta.json"),
    ),
  );
  assert.equal(meta.unconfined?.audit_entry !== undefined, true);
  assert.ok(meta.signature);
  const npm = await runAstrid(["capsule", "install", "npm:some-server"], {
    env: h.env,
  });
  assert.equal(npm.code, 1);
  assert.match(npm.stderr, /error\[INVALID_INPUT\].*not supported yet/);
});
