import assert from "node:assert/strict";
import { createDenoSpawner } from "../../../host/deno_spawner.ts";
import { denoLaunchArgs } from "./launch_flags.ts";

const CHILD = `
const out = {};
async function attempt(name, fn) {
  try { out[name] = { ok: true, value: await fn() }; }
  catch (e) { out[name] = { ok: false, error: e?.name ?? String(e) }; }
}
await attempt("granted", () => Deno.readTextFile(Deno.args[0] + "/granted/in.txt"));
await attempt("outside", () => Deno.readTextFile(Deno.args[0] + "/outside.txt"));
await attempt("etc", () => Deno.readTextFile("/etc/hostname"));
await attempt("environ", () => Deno.readTextFile("/proc/self/environ"));
await attempt("envGranted", () => Deno.env.get("ALLOWED"));
await attempt("envSecret", () => Deno.env.get("SECRET"));
await attempt("spawn", () => new Deno.Command("/bin/sh", { args: ["-c", "true"] }).output().then(() => "ran"));
await attempt("write", () => Deno.writeTextFile(Deno.args[0] + "/granted/w.txt", "x"));
console.log(JSON.stringify(out));
`;

Deno.test({
  name:
    "`denoLaunchArgs()` flags confine a real Deno child: outside reads, ungranted env and spawning fail with NotCapable",
  permissions: { read: true, write: true, run: true, env: true },
  async fn() {
    const dir = await Deno.realPath(await Deno.makeTempDir());
    try {
      await Deno.mkdir(`${dir}/cap`);
      await Deno.mkdir(`${dir}/granted`);
      await Deno.writeTextFile(`${dir}/granted/in.txt`, "inside");
      await Deno.writeTextFile(`${dir}/outside.txt`, "secret");
      await Deno.writeTextFile(`${dir}/cap/server.js`, CHILD);
      const launch = denoLaunchArgs(
        { command: "deno", args: ["run", "server.js", dir] },
        {
          fs_read: ["cwd://granted"],
          fs_write: [],
          net: [],
          env: ["ALLOWED"],
        },
        {
          denoPath: Deno.execPath(),
          capsuleDir: `${dir}/cap`,
          workspace: dir,
          mode: "flags",
          denoDir: `${dir}/deno-cache`,
          envValues: { ALLOWED: "yes", SECRET: "hunter2" },
        },
      );
      assert.equal(launch.kind, "deno");
      if (launch.kind !== "deno") return;
      const out = await createDenoSpawner().output(launch.command, {
        args: launch.args,
        env: launch.env,
        cwd: launch.cwd,
      });
      const stderr = new TextDecoder().decode(out.stderr);
      assert.ok(out.success, stderr);
      const r = JSON.parse(new TextDecoder().decode(out.stdout));
      assert.deepEqual(r.granted, { ok: true, value: "inside" });
      assert.deepEqual(r.envGranted, { ok: true, value: "yes" });
      for (const k of ["outside", "etc", "environ", "envSecret", "spawn"]) {
        assert.deepEqual(r[k], { ok: false, error: "NotCapable" }, k);
      }
      assert.deepEqual(r.write, { ok: false, error: "NotCapable" });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
