import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { createDenoSpawner } from "./deno_spawner.ts";

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

Deno.test({
  name:
    "`createDenoSpawner().output()` does not pass the parent's environment to the child",
  permissions: { run: true, env: true },
  async fn() {
    Deno.env.set("ASTRID_SPAWN_SECRET", "must-not-leak");
    try {
      const spawner = createDenoSpawner();
      const bare = await spawner.output("env");
      assert.deepEqual({ code: bare.code, stdout: text(bare.stdout) }, {
        code: 0,
        stdout: "",
      });
      const given = await spawner.output("env", { env: { ONLY: "1" } });
      assert.equal(text(given.stdout), "ONLY=1\n");
      const passed = await spawner.output("env", {
        env: { ASTRID_SPAWN_SECRET: "explicit" },
      });
      assert.equal(text(passed.stdout), "ASTRID_SPAWN_SECRET=explicit\n");
    } finally {
      Deno.env.delete("ASTRID_SPAWN_SECRET");
    }
  },
});

Deno.test({
  name:
    "`createDenoSpawner().spawn()` does not pass the parent's environment to the child",
  permissions: { run: true, env: true },
  async fn() {
    Deno.env.set("ASTRID_SPAWN_SECRET", "must-not-leak");
    try {
      const child = createDenoSpawner().spawn("env", {
        env: { A: "b" },
        stderr: "null",
      });
      const [out, status] = await Promise.all([
        new Response(child.stdout).text(),
        child.status,
      ]);
      assert.deepEqual({ out, status }, {
        out: "A=b\n",
        status: { code: 0, signal: null, success: true },
      });
    } finally {
      Deno.env.delete("ASTRID_SPAWN_SECRET");
    }
  },
});

Deno.test({
  name:
    "`createDenoSpawner().output()` collects stdout, stderr and the exit code",
  permissions: { run: true },
  async fn() {
    const out = await createDenoSpawner().output("sh", {
      args: ["-c", "printf out; printf err >&2; exit 3"],
    });
    assert.deepEqual(
      {
        code: out.code,
        signal: out.signal,
        success: out.success,
        stdout: text(out.stdout),
        stderr: text(out.stderr),
      },
      { code: 3, signal: null, success: false, stdout: "out", stderr: "err" },
    );
  },
});

Deno.test({
  name:
    "`createDenoSpawner().output()` feeds `input` to stdin, even when the child ignores it",
  permissions: { run: true },
  async fn() {
    const spawner = createDenoSpawner();
    const echoed = await spawner.output("cat", { input: "hello\n" });
    assert.equal(text(echoed.stdout), "hello\n");
    const ignored = await spawner.output("true", {
      input: new Uint8Array(1 << 20),
    });
    assert.equal(ignored.code, 0);
  },
});

Deno.test({
  name: "`createDenoSpawner().spawn()` streams a piped stdin to a piped stdout",
  permissions: { run: true },
  async fn() {
    const child = createDenoSpawner().spawn("cat", {
      stdin: "piped",
      stderr: "null",
    });
    assert.equal(child.stderr, null);
    assert.ok(child.pid > 0);
    const writer = child.stdin!.getWriter();
    await writer.write(new TextEncoder().encode("ping"));
    await writer.close();
    const [out, status] = await Promise.all([
      new Response(child.stdout).text(),
      child.status,
    ]);
    assert.deepEqual({ out, success: status.success }, {
      out: "ping",
      success: true,
    });
  },
});

Deno.test({
  name: "`createDenoSpawner().spawn()` runs in `cwd`",
  permissions: { run: true, read: true, write: true },
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const out = await createDenoSpawner().output("sh", {
        args: ["-c", "pwd"],
        cwd: dir,
      });
      assert.equal(text(out.stdout).trim(), await Deno.realPath(dir));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "`ChildProcess.kill()` ends the child with the given signal; a second kill after exit is a no-op",
  permissions: { run: true },
  async fn() {
    const child = createDenoSpawner().spawn("sleep", {
      args: ["30"],
      stdout: "null",
      stderr: "null",
    });
    child.kill("SIGKILL");
    assert.deepEqual(await child.status, {
      code: 137,
      signal: "SIGKILL",
      success: false,
    });
    child.kill();
  },
});

Deno.test({
  name:
    "`createDenoSpawner().output()` rejects with ABORTED and reaps the child when the signal fires",
  permissions: { run: true },
  async fn() {
    const spawner = createDenoSpawner();
    const ac = new AbortController();
    const running = spawner.output("sleep", {
      args: ["30"],
      signal: ac.signal,
    });
    ac.abort(new Error("user cancelled"));
    await assert.rejects(running, (e) => KernelError.is(e, "ABORTED"));
    await assert.rejects(
      spawner.output("true", { signal: AbortSignal.abort() }),
      (e) => KernelError.is(e, "ABORTED"),
    );
  },
});

Deno.test({
  name: "`createDenoSpawner().spawn()` maps an unknown command to NOT_FOUND",
  permissions: { run: true },
  fn() {
    assert.throws(
      () => createDenoSpawner().spawn("astrid-no-such-command-x"),
      (e) =>
        KernelError.is(e, "NOT_FOUND") &&
        e.cause instanceof Deno.errors.NotFound,
    );
  },
});

Deno.test({
  name:
    "`createDenoSpawner()` maps a missing --allow-run (a synchronous throw) to HOST_PERMISSION_DENIED",
  permissions: "none",
  async fn() {
    const spawner = createDenoSpawner();
    assert.throws(
      () => spawner.spawn("true"),
      (e) => KernelError.is(e, "HOST_PERMISSION_DENIED"),
    );
    await assert.rejects(
      spawner.output("true"),
      (e) => KernelError.is(e, "HOST_PERMISSION_DENIED"),
    );
  },
});

Deno.test({
  name:
    "`createDenoSpawner().spawn()` rejects an empty command as a programmer error",
  permissions: "none",
  fn() {
    assert.throws(() => createDenoSpawner().spawn(""), TypeError);
  },
});
