import assert from "node:assert/strict";
import type { Env } from "../core/ports.ts";
import { expandVars, isWorkspaceVariable } from "./expand_vars.ts";

const test = (name: string, fn: () => void) =>
  Deno.test({ name, permissions: "none", fn });

const env: Env = {
  get: (name) =>
    ({ ASTRID_PROXY: "https://proxy.example", HOME: "/home/u" } as Record<
      string,
      string
    >)[name],
};

test("`expandVars()` replaces references in strings and list entries", () => {
  const r = expandVars(
    {
      model: { api_url: "${ASTRID_PROXY}/v1" },
      workspace: { auto_allow_read: ["${HOME}/docs", "/tmp"] },
    },
    { env, file: "/u.toml" },
  );
  assert.deepEqual(structuredClone(r.values), {
    model: { api_url: "https://proxy.example/v1" },
    workspace: { auto_allow_read: ["/home/u/docs", "/tmp"] },
  });
  assert.deepEqual(r.expandedKeys, [
    "model.api_url",
    "workspace.auto_allow_read",
  ]);
  assert.deepEqual(r.issues, []);
});

test("`expandVars()` reports an unset variable with file and key", () => {
  const r = expandVars({ model: { model: "${ASTRID_NOPE}" } }, {
    env,
    file: "/u.toml",
  });
  assert.deepEqual(r.issues, [{
    file: "/u.toml",
    key: "model.model",
    message: "references unset variable ${ASTRID_NOPE}",
  }]);
});

test("`expandVars()` refuses variables the allow rule excludes (workspace attack)", () => {
  const r = expandVars(
    { security: { policy: { denied_hosts: ["${HOME}"] } } },
    { env, file: "/w.toml", allow: isWorkspaceVariable },
  );
  assert.equal(r.issues[0]?.key, "security.policy.denied_hosts");
  assert.match(r.issues[0]?.message ?? "", /may not reference \$\{HOME\}/);
  assert.deepEqual(r.expandedKeys, []);
});

test("`expandVars()` does not expand a variable's value again", () => {
  const nested: Env = {
    get: (n) => (n === "ASTRID_A" ? "${HOME}" : "/home/u"),
  };
  const r = expandVars({ model: { model: "${ASTRID_A}" } }, {
    env: nested,
    file: "/u.toml",
  });
  assert.equal((r.values.model as Record<string, unknown>).model, "${HOME}");
});

test("`expandVars()` leaves a __proto__ key as plain data", () => {
  const input = JSON.parse('{"__proto__": {"polluted": "${ASTRID_PROXY}"}}');
  const r = expandVars(input, { env, file: "/u.toml" });
  assert.equal(Object.getPrototypeOf(r.values), null);
  assert.deepEqual(Object.keys(r.values), ["__proto__"]);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});
