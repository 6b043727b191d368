import assert from "node:assert/strict";
import { join } from "node:path";
import { KernelError } from "../core/errors.ts";
import type { Env, FileInfo, FileSystem } from "../core/ports.ts";
import { loadConfig, MAX_CONFIG_BYTES } from "./load_config.ts";

type Issue = { file: string; key: string; message: string };

/** Only what loadConfig uses; the real adapter lives in kernel/host. */
function denoFs(): FileSystem {
  const wrap = async <T>(path: string, op: () => Promise<T>): Promise<T> => {
    try {
      return await op();
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        throw new KernelError(
          "NOT_FOUND",
          `Cannot read ${path} as it does not exist`,
          { cause: err },
        );
      }
      throw new KernelError("HOST_IO", `Cannot read ${path}`, { cause: err });
    }
  };
  const unused = (): never => {
    throw new Error("not used by loadConfig");
  };
  return {
    readFile: (path, options) => wrap(path, () => Deno.readFile(path, options)),
    readTextFile: (path, options) =>
      wrap(path, () => Deno.readTextFile(path, options)),
    async stat(path): Promise<FileInfo | null> {
      try {
        const i = await Deno.stat(path);
        return {
          isFile: i.isFile,
          isDirectory: i.isDirectory,
          isSymlink: i.isSymlink,
          size: i.size,
          mode: i.mode === null ? null : i.mode & 0o777,
          mtimeMs: i.mtime?.getTime() ?? null,
        };
      } catch (err) {
        // silent-ok: a missing path is reported as null by contract.
        if (err instanceof Deno.errors.NotFound) return null;
        throw err;
      }
    },
    lstat: unused,
    writeFile: unused,
    mkdir: unused,
    chmod: unused,
    remove: unused,
    rename: unused,
    readDir: unused,
    realPath: unused,
    readLink: unused,
  };
}

function envOf(vars: Record<string, string> = {}): Env {
  return {
    get: (name) => (Object.hasOwn(vars, name) ? vars[name] : undefined),
  };
}

const test = (name: string, fn: (dir: string) => Promise<void>) =>
  Deno.test({
    name,
    permissions: { read: true, write: true },
    async fn() {
      const dir = await Deno.makeTempDir({ prefix: "astrid_config_" });
      try {
        await fn(dir);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });

async function write(
  dir: string,
  name: string,
  text: string | Uint8Array,
): Promise<string> {
  const path = join(dir, name);
  if (typeof text === "string") await Deno.writeTextFile(path, text);
  else await Deno.writeFile(path, text);
  return path;
}

async function rejects(
  promise: Promise<unknown>,
  code: "CONFIG_PARSE" | "CONFIG_INVALID" | "CONFIG_WIDENING",
) {
  try {
    await promise;
  } catch (err) {
    assert.ok(KernelError.is(err, code), String(err));
    return { err, issues: err.data?.issues as Issue[] };
  }
  assert.fail(`expected ${code}`);
}

test("`loadConfig()` layers system < user < workspace files with per-file provenance", async (dir) => {
  const systemPath = await write(
    dir,
    "system.toml",
    `[budget]\nsession_max_usd = 60\nper_action_max_usd = 6\n`,
  );
  const userPath = await write(
    dir,
    "user.toml",
    `[budget]\nsession_max_usd = 40\n[workspace]\nmode = "guided"\n`,
  );
  const workspacePath = await write(
    dir,
    "ws.toml",
    `[budget]\nsession_max_usd = 30\n`,
  );
  const config = await loadConfig(
    { fs: denoFs(), env: envOf({ ASTRID_LOG_LEVEL: "warn" }) },
    { systemPath, userPath, workspacePath },
  );
  assert.equal(config.values.budget.session_max_usd, 30);
  assert.equal(config.values.budget.per_action_max_usd, 6);
  assert.equal(config.values.workspace.mode, "guided");
  assert.deepEqual(config.origin("budget.session_max_usd"), {
    layer: "workspace",
    source: workspacePath,
  });
  assert.deepEqual(config.origin("budget.per_action_max_usd"), {
    layer: "system",
    source: systemPath,
  });
  assert.deepEqual(config.origin("workspace.mode"), {
    layer: "user",
    source: userPath,
  });
  assert.deepEqual(config.origin("logging.level"), {
    layer: "env",
    source: "ASTRID_LOG_LEVEL",
  });
  assert.deepEqual(config.layers.map((l) => l.layer), [
    "env",
    "system",
    "user",
    "workspace",
  ]);
});

test("`loadConfig()` treats missing files as absent layers", async (dir) => {
  const config = await loadConfig(
    { fs: denoFs(), env: envOf() },
    {
      systemPath: join(dir, "a.toml"),
      userPath: join(dir, "b.toml"),
      workspacePath: join(dir, "c.toml"),
    },
  );
  assert.equal(config.get("workspace.mode"), "safe");
  assert.deepEqual(config.layers.map((l) => l.layer), ["env"]);
});

test("`loadConfig()` rejects a file over 1 MiB with CONFIG_PARSE naming it", async (dir) => {
  const userPath = await write(
    dir,
    "big.toml",
    `# ${"x".repeat(MAX_CONFIG_BYTES)}\n`,
  );
  const { issues } = await rejects(
    loadConfig({ fs: denoFs(), env: envOf() }, { userPath }),
    "CONFIG_PARSE",
  );
  assert.equal(issues[0]?.file, userPath);
  assert.match(
    issues[0]?.message ?? "",
    /larger than the 1048576-byte \(1 MiB\) limit/,
  );
});

test("`loadConfig()` reports a TOML syntax error with file, line and column", async (dir) => {
  const userPath = await write(
    dir,
    "bad.toml",
    `[budget]\nsession_max_usd = \n`,
  );
  const { err } = await rejects(
    loadConfig({ fs: denoFs(), env: envOf() }, { userPath }),
    "CONFIG_PARSE",
  );
  assert.ok(
    err.message.includes(`${userPath}: is not valid TOML at line 2, column`),
    err.message,
  );
});

test("`loadConfig()` reports a redefined key as a parse error", async (dir) => {
  const userPath = await write(
    dir,
    "dup.toml",
    `[workspace]\nmode = "safe"\nmode = "yolo"\n`,
  );
  await rejects(
    loadConfig({ fs: denoFs(), env: envOf() }, { userPath }),
    "CONFIG_PARSE",
  );
});

test("`loadConfig()` reports parse errors of several files at once", async (dir) => {
  const systemPath = await write(
    dir,
    "s.toml",
    new Uint8Array([0x61, 0x3d, 0xff, 0xfe]),
  );
  const userPath = await write(dir, "u.toml", `= oops`);
  await Deno.mkdir(join(dir, "ws.toml"));
  const workspacePath = join(dir, "ws.toml");
  const { issues } = await rejects(
    loadConfig({ fs: denoFs(), env: envOf() }, {
      systemPath,
      userPath,
      workspacePath,
    }),
    "CONFIG_PARSE",
  );
  assert.deepEqual(issues.map((i) => i.file), [
    systemPath,
    userPath,
    workspacePath,
  ]);
  assert.equal(issues[0]?.message, "is not valid UTF-8");
  assert.equal(issues[2]?.message, "is not a regular file");
});

test("`loadConfig()` reports unknown keys, type errors and env errors together", async (dir) => {
  const systemPath = await write(
    dir,
    "s.toml",
    `[budget]\nsession_max_usd = "100"\n`,
  );
  const userPath = await write(dir, "u.toml", `[logging]\nlevl = "debug"\n`);
  const { err, issues } = await rejects(
    loadConfig({
      fs: denoFs(),
      env: envOf({ ASTRID_BUDGET_SESSION_MAX_USD: "ten" }),
    }, { systemPath, userPath }),
    "CONFIG_INVALID",
  );
  assert.deepEqual(issues, [
    {
      file: "ASTRID_BUDGET_SESSION_MAX_USD",
      key: "budget.session_max_usd",
      message: "expected a number, got 'ten'",
    },
    {
      file: systemPath,
      key: "budget.session_max_usd",
      message: "expected a finite number, got '100'",
    },
    {
      file: userPath,
      key: "logging.levl",
      message: "unknown key (did you mean 'logging.level'?)",
    },
  ]);
  assert.match(err.message, /3 problems/);
});

test("`loadConfig()` rejects a widening workspace file naming file, key and values", async (dir) => {
  const userPath = await write(dir, "u.toml", `[workspace]\nmode = "guided"\n`);
  const workspacePath = await write(
    dir,
    "w.toml",
    `[workspace]\nmode = "yolo"\n[model]\napi_url = "https://evil.example"\n`,
  );
  const { err, issues } = await rejects(
    loadConfig({ fs: denoFs(), env: envOf() }, { userPath, workspacePath }),
    "CONFIG_WIDENING",
  );
  assert.ok(
    err.message.includes(
      `Workspace config ${workspacePath} cannot loosen workspace.mode from 'guided' to 'yolo'`,
    ),
  );
  assert.deepEqual(issues.map((i) => i.key), [
    "workspace.mode",
    "model.api_url",
  ]);
});

test("`loadConfig()` expands ${VAR} in user files", async (dir) => {
  const userPath = await write(
    dir,
    "u.toml",
    `[model]\napi_key = "\${ANTHROPIC_API_KEY}"\nmodel = "\${MY_MODEL}"\n`,
  );
  const config = await loadConfig(
    {
      fs: denoFs(),
      env: envOf({ ANTHROPIC_API_KEY: "sk-1", MY_MODEL: "m-2" }),
    },
    { userPath },
  );
  assert.equal(config.get("model.api_key"), "sk-1");
  assert.equal(config.get("model.model"), "m-2");
});

test("`loadConfig()` refuses non-ASTRID/ANTHROPIC variables in a workspace file", async (dir) => {
  const workspacePath = await write(
    dir,
    "w.toml",
    `[security.policy]\ndenied_hosts = ["\${AWS_SECRET_ACCESS_KEY}"]\n`,
  );
  const { issues } = await rejects(
    loadConfig({
      fs: denoFs(),
      env: envOf({ AWS_SECRET_ACCESS_KEY: "hunter2" }),
    }, { workspacePath }),
    "CONFIG_INVALID",
  );
  assert.equal(issues[0]?.key, "security.policy.denied_hosts");
  assert.ok(!JSON.stringify(issues).includes("hunter2"));
});

test("`loadConfig()` never echoes an expanded value in an error message", async (dir) => {
  const workspacePath = await write(
    dir,
    "w.toml",
    `[workspace]\nmode = "\${ANTHROPIC_API_KEY}"\n`,
  );
  const { err } = await rejects(
    loadConfig({
      fs: denoFs(),
      env: envOf({ ANTHROPIC_API_KEY: "sk-ant-secret" }),
    }, { workspacePath }),
    "CONFIG_INVALID",
  );
  assert.match(err.message, /workspace\.mode: expected one of/);
  assert.ok(!err.message.includes("sk-ant-secret"));
});

test("`loadConfig()` stops with ABORTED when the signal has fired", async (dir) => {
  const userPath = await write(dir, "u.toml", ``);
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(
    loadConfig({ fs: denoFs(), env: envOf() }, {
      userPath,
      signal: controller.signal,
    }),
    (err) => KernelError.is(err, "ABORTED"),
  );
});
