import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { parsePrincipalId, type PrincipalId } from "../core/ids.ts";
import { MemoryEnv } from "../testing/memory_env.ts";
import { astridHomePaths, resolveAstridHome } from "./astrid_home.ts";

function homeInvalid(pattern: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(
      KernelError.is(e, "HOME_INVALID"),
      `expected HOME_INVALID, got ${String(e)}`,
    );
    assert.match(e.message, pattern);
    return true;
  };
}

Deno.test({
  name: "`resolveAstridHome()` defaults to $HOME/.astrid",
  permissions: "none",
  fn() {
    assert.equal(
      resolveAstridHome(new MemoryEnv({ HOME: "/home/ada" })),
      "/home/ada/.astrid",
    );
    assert.equal(
      resolveAstridHome(new MemoryEnv({ HOME: "/home/ada//" })),
      "/home/ada/.astrid",
    );
    assert.equal(resolveAstridHome(new MemoryEnv({ HOME: "/" })), "/.astrid");
    assert.equal(
      resolveAstridHome(new MemoryEnv({ HOME: "/home/ada", ASTRID_HOME: "" })),
      "/home/ada/.astrid",
    );
  },
});

Deno.test({
  name:
    "`resolveAstridHome()` prefers ASTRID_HOME and normalises trailing, double and '.' segments",
  permissions: "none",
  fn() {
    const env = (v: string) =>
      new MemoryEnv({ HOME: "/home/ada", ASTRID_HOME: v });
    assert.equal(resolveAstridHome(env("/srv/astrid")), "/srv/astrid");
    assert.equal(resolveAstridHome(env("/srv/astrid///")), "/srv/astrid");
    assert.equal(resolveAstridHome(env("//srv/./astrid")), "/srv/astrid");
    assert.equal(resolveAstridHome(env("/srv/..astrid")), "/srv/..astrid");
  },
});

Deno.test({
  name: "`resolveAstridHome()` refuses a relative ASTRID_HOME",
  permissions: "none",
  fn() {
    for (const v of ["astrid", "./astrid", "~/astrid", "C:\\astrid"]) {
      assert.throws(
        () => resolveAstridHome(new MemoryEnv({ ASTRID_HOME: v })),
        homeInvalid(/not an absolute path/),
      );
    }
  },
});

Deno.test({
  name: "`resolveAstridHome()` refuses a '..' segment anywhere",
  permissions: "none",
  fn() {
    for (const v of ["/srv/../etc", "/srv/astrid/..", "/../x", "/a/./../b/"]) {
      assert.throws(
        () => resolveAstridHome(new MemoryEnv({ ASTRID_HOME: v })),
        homeInvalid(/'\.\.' segment/),
      );
    }
    assert.throws(
      () => resolveAstridHome(new MemoryEnv({ HOME: "/home/../root" })),
      homeInvalid(/HOME=.*'\.\.'/),
    );
  },
});

Deno.test({
  name: "`resolveAstridHome()` refuses a NUL byte and the file-system root",
  permissions: "none",
  fn() {
    assert.throws(
      () => resolveAstridHome(new MemoryEnv({ ASTRID_HOME: "/srv/a\0b" })),
      homeInvalid(/NUL/),
    );
    assert.throws(
      () => resolveAstridHome(new MemoryEnv({ ASTRID_HOME: "/" })),
      homeInvalid(/root/),
    );
    assert.throws(
      () => resolveAstridHome(new MemoryEnv({ ASTRID_HOME: "//./" })),
      homeInvalid(/root/),
    );
  },
});

Deno.test({
  name:
    "`resolveAstridHome()` refuses a missing or relative HOME when ASTRID_HOME is unset",
  permissions: "none",
  fn() {
    assert.throws(
      () => resolveAstridHome(new MemoryEnv({})),
      homeInvalid(/neither ASTRID_HOME nor HOME/),
    );
    assert.throws(
      () => resolveAstridHome(new MemoryEnv({ HOME: "" })),
      homeInvalid(/neither/),
    );
    assert.throws(
      () => resolveAstridHome(new MemoryEnv({ HOME: "home/ada" })),
      homeInvalid(/HOME=.*absolute/),
    );
  },
});

Deno.test({
  name: "`astridHomePaths()` names every path of reference §9.3",
  permissions: "none",
  fn() {
    const { home, ...paths } = astridHomePaths("/srv/astrid/");
    assert.deepEqual(paths, {
      root: "/srv/astrid",
      etc: "/srv/astrid/etc",
      var: "/srv/astrid/var",
      run: "/srv/astrid/run",
      log: "/srv/astrid/log",
      keys: "/srv/astrid/keys",
      bin: "/srv/astrid/bin",
      lib: "/srv/astrid/lib",
      wit: "/srv/astrid/wit",
      homes: "/srv/astrid/home",
      configToml: "/srv/astrid/etc/config.toml",
      layoutVersion: "/srv/astrid/etc/layout-version",
      stateKv: "/srv/astrid/var/state.kv",
      storePassword: "/srv/astrid/keys/store.password",
      runtimeKey: "/srv/astrid/keys/runtime.key",
      systemSock: "/srv/astrid/run/system.sock",
      systemToken: "/srv/astrid/run/system.token",
      systemReady: "/srv/astrid/run/system.ready",
    });
    const p = "/srv/astrid/home/ada";
    assert.deepEqual(home(parsePrincipalId("ada")), {
      root: p,
      local: `${p}/.local`,
      capsules: `${p}/.local/capsules`,
      kv: `${p}/.local/kv`,
      log: `${p}/.local/log`,
      audit: `${p}/.local/audit`,
      tokens: `${p}/.local/tokens`,
      tmp: `${p}/.local/tmp`,
      config: `${p}/.config`,
      env: `${p}/.config/env`,
      distroLock: `${p}/.config/distro.lock`,
      wit: `${p}/wit`,
    });
  },
});

Deno.test({
  name:
    "`astridHomePaths().home()` refuses a forged principal that would escape home/",
  permissions: "none",
  fn() {
    const home = astridHomePaths("/srv/astrid");
    for (const forged of ["../keys", "a/b", "", "."]) {
      assert.throws(
        () => home.home(forged as PrincipalId),
        (e) => KernelError.is(e, "INVALID_ID"),
      );
    }
  },
});

Deno.test({
  name: "`astridHomePaths()` refuses a relative, root or '..' path",
  permissions: "none",
  fn() {
    for (const root of ["srv/astrid", "/", "/srv/../etc"]) {
      assert.throws(
        () => astridHomePaths(root),
        (e) => KernelError.is(e, "HOME_INVALID"),
      );
    }
  },
});
