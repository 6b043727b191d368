/**
 * End-to-end: the admin API's capsule routes on a real kernel, in process:
 * a real first-party capsule (`capsules/identity`) installed through
 * `POST /v1/capsules/install` (built, pinned, signed, audited) with SSE
 * progress, listed with its grants in words, updated from its recorded
 * source, refused after tampering, removed; dependency-aware removal with
 * capsules that export and import an interface.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { KernelError } from "../kernel/core/errors.ts";
import { startApiFixture } from "../kernel/api/_api_fixture_test.ts";
import type { ApiClient } from "../kernel/api/client.ts";
import type { ProgressEvent } from "../kernel/api/contract.ts";
import type {
  AuditListBody,
  CapsuleListBody,
  CapsuleRemoveBody,
  CapsuleTreeBody,
} from "../kernel/api/contract_admin.ts";

const ROOT = path.resolve(import.meta.dirname ?? ".", "..");
/** Under the repository, so a build finds its `deno.json` (`@astrid/sdk`). */
const TEMP_BASE = path.join(ROOT, ".test-tmp");

async function collect(
  client: ApiClient,
  route: "capsulesInstall" | "capsulesUpdate",
  options: Parameters<ApiClient["stream"]>[1],
): Promise<ProgressEvent[]> {
  const events: ProgressEvent[] = [];
  for await (const e of client.stream<ProgressEvent>(route, options)) {
    events.push(e);
  }
  return events;
}

async function rejectsWith(p: Promise<unknown>, code: string) {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  assert.ok(KernelError.is(caught), `expected ${code}, got ${caught}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

async function copyCapsule(name: string, to: string): Promise<string> {
  const dir = path.join(to, name);
  await Deno.mkdir(dir, { recursive: true });
  for (const f of ["Capsule.toml", "main.ts"]) {
    await Deno.copyFile(
      path.join(ROOT, "capsules", name, f),
      path.join(dir, f),
    );
  }
  return dir;
}

async function staticCapsule(
  parent: string,
  name: string,
  extra: string,
): Promise<string> {
  const dir = path.join(parent, name);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    path.join(dir, "Capsule.toml"),
    `[package]\nname = "${name}"\nversion = "0.1.0"\n${extra}`,
  );
  return dir;
}

Deno.test("a real capsule installs through the API with progress, lists with its grants in words, updates from its source, shows as refused after tampering, and is removed", async () => {
  await Deno.mkdir(TEMP_BASE, { recursive: true });
  await using f = await startApiFixture({
    prefix: "api-capsules-",
    tempBase: TEMP_BASE,
  });
  const source = await copyCapsule("identity", path.join(f.tk.root, "src"));

  const events = await collect(f.client, "capsulesInstall", {
    body: { source },
  });
  const last = events.at(-1)!;
  assert.equal(last.type, "done", JSON.stringify(events));
  assert.ok(events.slice(0, -1).every((e) => e.type === "progress"));
  assert.ok(events.length >= 3, "progress lines before done");
  assert.equal(last.result?.["capsule"], "identity");
  assert.equal(last.result?.["built"], true);
  assert.ok(!JSON.stringify(events).includes(f.tk.home), "no home paths");

  const list = await f.client.call<CapsuleListBody>("capsulesList");
  assert.deepEqual(list.refused, []);
  const [info] = list.capsules;
  assert.equal(info?.name, "identity");
  assert.equal(info?.engine, "js");
  assert.equal(info?.source, source);
  assert.equal(info?.unconfined, false);
  assert.deepEqual(info?.grants, [
    "read files: workspace AGENTS.md",
    "read settings: system_prompt, agents_md_max_chars",
  ]);
  assert.ok(info!.installed_at > 0);

  const tree = await f.client.call<CapsuleTreeBody>("capsulesTree");
  assert.deepEqual(tree.order, ["identity"]);
  assert.equal(tree.tree[0]?.status, "ok");

  const updated = await collect(f.client, "capsulesUpdate", {
    params: { name: "identity" },
  });
  assert.equal(updated.at(-1)?.type, "done", JSON.stringify(updated));
  assert.equal(updated.at(-1)?.result?.["built"], false, "the lock is reused");
  const after = await f.client.call<CapsuleListBody>("capsulesList");
  assert.equal(after.capsules[0]?.installed_at, info!.installed_at);
  assert.ok(after.capsules[0]!.updated_at >= info!.updated_at);

  // Tamper with the installed bundle: boot would refuse it, so does the list.
  const installed = path.join(
    f.tk.kernel.home.home(f.tk.kernel.principal).capsules,
    "identity",
  );
  await Deno.writeTextFile(
    path.join(installed, "identity.js"),
    "\n// injected",
    { append: true },
  );
  const tampered = await f.client.call<CapsuleListBody>("capsulesList");
  assert.deepEqual(tampered.capsules, []);
  assert.equal(tampered.refused[0]?.name, "identity");
  assert.equal(tampered.refused[0]?.code, "CAPSULE_INTEGRITY");
  assert.ok(!tampered.refused[0]!.reason.includes(f.tk.root));

  const removed = await f.client.call<CapsuleRemoveBody>("capsulesRemove", {
    params: { name: "identity" },
  });
  assert.deepEqual(removed, { removed: "identity", dependents: [] });
  assert.equal(
    (await f.client.call<CapsuleListBody>("capsulesList")).refused
      .length,
    0,
  );
  await rejectsWith(
    f.client.call("capsulesRemove", { params: { name: "identity" } }),
    "CAPSULE_NOT_FOUND",
  );
  const audited = await f.client.call<AuditListBody>("auditList", {
    query: { capsule: "identity" },
  });
  assert.deepEqual(
    audited.entries.map((e) => (e.action as { type: string }).type),
    ["capsule_remove", "capsule_install", "capsule_install"],
  );
});

Deno.test("removing the only exporter of an interface another capsule imports is refused unless forced, and audited; an update trusts only a signed record's source", async () => {
  await using f = await startApiFixture({ prefix: "api-capsules-deps-" });
  const src = path.join(f.tk.root, "src");
  const lib = await staticCapsule(
    src,
    "lib-a",
    `[exports.astrid]\nthing = "1.0.0"\n`,
  );
  const user = await staticCapsule(
    src,
    "user-b",
    `[imports.astrid]\nthing = "^1.0"\n`,
  );
  for (const source of [user, lib]) {
    const events = await collect(f.client, "capsulesInstall", {
      body: { source },
    });
    assert.equal(events.at(-1)?.type, "done", JSON.stringify(events));
  }
  const tree = await f.client.call<CapsuleTreeBody>("capsulesTree");
  assert.deepEqual(tree.order, ["lib-a", "user-b"]);

  // A record whose source was rewritten is no longer signed: no update from it.
  const meta = path.join(
    f.tk.kernel.home.home(f.tk.kernel.principal).capsules,
    "user-b",
    "meta.json",
  );
  const record = JSON.parse(await Deno.readTextFile(meta));
  await Deno.writeTextFile(
    meta,
    JSON.stringify({ ...record, source: path.join(src, "lib-a") }),
  );
  const forged = await rejectsWith(
    f.client.call("capsulesUpdate", { params: { name: "user-b" } }),
    "CAPSULE_INTEGRITY",
  );
  assert.ok(!(forged as Error).message.includes(f.tk.root));
  await Deno.writeTextFile(meta, JSON.stringify(record));
  assert.equal(tree.tree[1]?.imports[0]?.providers[0]?.capsule, "lib-a");

  const refused = await rejectsWith(
    f.client.call("capsulesRemove", { params: { name: "lib-a" } }),
    "CAPSULE_RESOLVE",
  );
  assert.match((refused as Error).message, /user-b/);
  const forced = await f.client.call<CapsuleRemoveBody>("capsulesRemove", {
    params: { name: "lib-a" },
    query: { force: "true" },
  });
  assert.deepEqual(forced.dependents, ["user-b"]);
  const left = await f.client.call<CapsuleTreeBody>("capsulesTree");
  assert.deepEqual(left.order, []);
  assert.equal(left.unresolved[0]?.capsule, "user-b");
  assert.equal(left.unresolved[0]?.code, "missing_import");
  const audited = await f.client.call<AuditListBody>("auditList", {
    query: { action: "capsule_remove" },
  });
  assert.equal(audited.entries.length, 1);
});

Deno.test("an install source whose Capsule.toml is a symlink is refused; a broken manifest ends the stream with a coded error that names no path", async () => {
  await using f = await startApiFixture({ prefix: "api-capsules-bad-" });
  const src = path.join(f.tk.root, "src");
  const linked = path.join(src, "linked");
  await Deno.mkdir(linked, { recursive: true });
  await Deno.writeTextFile(path.join(src, "secret.txt"), "top secret\n");
  await Deno.symlink(
    path.join(src, "secret.txt"),
    path.join(linked, "Capsule.toml"),
  );
  const err = await rejectsWith(
    f.client.call("capsulesInstall", { body: { source: linked } }),
    "API_BAD_REQUEST",
  );
  assert.ok(!(err as Error).message.includes("top secret"));

  const broken = await staticCapsule(
    src,
    "broken",
    `[capabilities]\nnet = 7\n`,
  );
  const events = await collect(f.client, "capsulesInstall", {
    body: { source: broken },
  });
  const last = events.at(-1)!;
  assert.equal(last.type, "error");
  assert.equal(last.error?.code, "MANIFEST_INVALID");
  assert.ok(!JSON.stringify(events).includes(f.tk.root), last.message);
  assert.deepEqual(
    (await f.client.call<CapsuleListBody>("capsulesList")).capsules,
    [],
  );
});

Deno.test("concurrent installs of the same capsule both finish and leave one intact install", async () => {
  await using f = await startApiFixture({ prefix: "api-capsules-race-" });
  const src = await staticCapsule(path.join(f.tk.root, "src"), "twice", "");
  const [a, b] = await Promise.all([
    collect(f.client, "capsulesInstall", { body: { source: src } }),
    collect(f.client, "capsulesInstall", { body: { source: src } }),
  ]);
  assert.equal(a.at(-1)?.type, "done", JSON.stringify(a));
  assert.equal(b.at(-1)?.type, "done", JSON.stringify(b));
  const list = await f.client.call<CapsuleListBody>("capsulesList");
  assert.deepEqual(list.capsules.map((c) => c.name), ["twice"]);
  assert.deepEqual(list.refused, []);
});

Deno.test("an install with unconfined: true records and audits the operator's approval, and the list shows it", async () => {
  await using f = await startApiFixture({ prefix: "api-capsules-unconf-" });
  const src = await staticCapsule(path.join(f.tk.root, "src"), "loose", "");
  const events = await collect(f.client, "capsulesInstall", {
    body: { source: src, unconfined: true },
  });
  assert.equal(events.at(-1)?.type, "done", JSON.stringify(events));
  const list = await f.client.call<CapsuleListBody>("capsulesList");
  assert.equal(list.capsules[0]?.unconfined, true);
  const audited = await f.client.call<AuditListBody>("auditList", {
    query: { action: "capsule_unconfined_install" },
  });
  assert.equal(audited.entries.length, 1);
  assert.deepEqual(audited.entries[0]?.proof, {
    type: "operator",
    approved_by: "operator via api (socket)",
  });
});
