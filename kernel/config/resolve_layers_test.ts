import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import type { Layer, LayerName } from "./layer.ts";
import { resolveLayers } from "./resolve_layers.ts";

type Issue = { file: string; key: string; message: string };

const test = (name: string, fn: () => void) =>
  Deno.test({ name, permissions: "none", fn });

function layer(name: LayerName, values: Record<string, unknown>): Layer {
  return {
    name,
    source: name === "env" ? "environment" : `/${name}.toml`,
    values,
  };
}

function invalid(layers: Layer[]): { err: KernelError; issues: Issue[] } {
  try {
    resolveLayers(layers);
  } catch (err) {
    assert.ok(KernelError.is(err, "CONFIG_INVALID"), String(err));
    return { err, issues: err.data?.issues as Issue[] };
  }
  assert.fail("expected CONFIG_INVALID");
}

test("`resolveLayers()` with no layers gives the built-in defaults", () => {
  const config = resolveLayers([]);
  assert.equal(config.values.workspace.mode, "safe");
  assert.equal(config.values.workspace.escape_policy, "ask");
  assert.equal(config.values.budget.session_max_usd, 100);
  assert.equal(config.values.budget.per_action_max_usd, 10);
  assert.equal(config.values.budget.warn_at_percent, 80);
  assert.equal(config.values.budget.workspace_max_usd, undefined);
  assert.equal(config.values.security.always_token_ttl_secs, 3600);
  assert.equal(config.values.security.policy.max_argument_size, 1_048_576);
  assert.ok(
    config.entries().every((e) =>
      e.layer === "defaults" && e.source === "built-in"
    ),
  );
});

test("`resolveLayers()` lets each layer override the one below it", () => {
  const order: LayerName[] = ["defaults", "env", "system", "user", "workspace"];
  for (let top = 0; top < order.length; top++) {
    const layers = order.slice(0, top + 1).map((name) =>
      layer(name, { model: { model: name } })
    );
    const config = resolveLayers(layers);
    const expected = order[top] as LayerName;
    assert.equal(config.get("model.model"), expected);
    assert.deepEqual(config.origin("model.model"), {
      layer: expected,
      source: layers[top]?.source,
    });
  }
});

test("`resolveLayers()` puts system, user files above the env layer (not a fallback)", () => {
  const config = resolveLayers([
    {
      ...layer("env", { workspace: { mode: "yolo" } }),
      keySources: { "workspace.mode": "ASTRID_WORKSPACE_MODE" },
    },
    layer("system", { workspace: { mode: "guided" } }),
  ]);
  assert.equal(config.get("workspace.mode"), "guided");
  assert.deepEqual(config.origin("workspace.mode"), {
    layer: "system",
    source: "/system.toml",
  });
});

test("`resolveLayers()` records a separate origin for each key", () => {
  const config = resolveLayers([
    {
      ...layer("env", { logging: { level: "debug" } }),
      keySources: { "logging.level": "ASTRID_LOG_LEVEL" },
    },
    layer("system", { budget: { session_max_usd: 50 } }),
    layer("user", { budget: { per_action_max_usd: 2 } }),
  ]);
  const rows = Object.fromEntries(
    config.entries().map((e) => [e.key, [e.value, e.layer, e.source]]),
  );
  assert.deepEqual(rows["logging.level"], ["debug", "env", "ASTRID_LOG_LEVEL"]);
  assert.deepEqual(rows["budget.session_max_usd"], [
    50,
    "system",
    "/system.toml",
  ]);
  assert.deepEqual(rows["budget.per_action_max_usd"], [
    2,
    "user",
    "/user.toml",
  ]);
  assert.deepEqual(rows["budget.warn_at_percent"], [
    80,
    "defaults",
    "built-in",
  ]);
  assert.deepEqual(config.layers.map((l) => l.layer), [
    "env",
    "system",
    "user",
  ]);
});

test("`resolveLayers()` replaces lists from trusted layers instead of merging them", () => {
  const config = resolveLayers([
    layer("user", { security: { policy: { denied_paths: ["/x/**"] } } }),
  ]);
  assert.deepEqual(config.get("security.policy.denied_paths"), ["/x/**"]);
});

test("`resolveLayers()` reports an unknown key with file, dotted key and a suggestion", () => {
  const { err, issues } = invalid([
    layer("user", { budget: { sesion_max_usd: 5 } }),
  ]);
  assert.deepEqual(issues, [{
    file: "/user.toml",
    key: "budget.sesion_max_usd",
    message: "unknown key (did you mean 'budget.session_max_usd'?)",
  }]);
  assert.match(
    err.message,
    /\/user\.toml: budget\.sesion_max_usd: unknown key/,
  );
});

test("`resolveLayers()` reports an unknown table once, without its contents", () => {
  const { issues } = invalid([
    layer("user", { hooks: { enabled: true, timeout: 3 } }),
  ]);
  assert.deepEqual(issues.map((i) => [i.key, i.message]), [[
    "hooks",
    "unknown key",
  ]]);
});

test("`resolveLayers()` reports a type error with file, key, expected and got", () => {
  const { issues } = invalid([
    layer("system", { budget: { session_max_usd: "lots" } }),
  ]);
  assert.deepEqual(issues, [{
    file: "/system.toml",
    key: "budget.session_max_usd",
    message: "expected a finite number, got 'lots'",
  }]);
});

test("`resolveLayers()` reports range, integer, enum and list-element errors", () => {
  const { issues } = invalid([layer("user", {
    budget: { warn_at_percent: 150 },
    subagents: { max_depth: 1.5 },
    logging: { level: "loud" },
    security: { policy: { denied_hosts: ["a", 3] } },
    model: { temperature: NaN },
  })]);
  assert.deepEqual(issues.map((i) => [i.key, i.message]), [
    ["budget.warn_at_percent", "expected at most 100, got 150"],
    ["subagents.max_depth", "expected an integer, got 1.5"],
    [
      "logging.level",
      "expected one of 'debug', 'info', 'warn', 'error', got 'loud'",
    ],
    [
      "security.policy.denied_hosts",
      "expected an array of strings, got an array containing an integer",
    ],
    ["model.temperature", "expected a finite number, got NaN"],
  ]);
});

test("`resolveLayers()` reports a scalar where a table belongs", () => {
  const { issues } = invalid([layer("workspace", { workspace: "yolo" })]);
  assert.deepEqual(issues, [{
    file: "/workspace.toml",
    key: "workspace",
    message: "expected a table, got a string",
  }]);
});

test("`resolveLayers()` rejects a non-http api_url", () => {
  const { issues } = invalid([
    layer("user", { model: { api_url: "file:///etc/passwd" } }),
  ]);
  assert.equal(
    issues[0]?.message,
    "expected an http(s) URL or an empty string, got 'file:///etc/passwd'",
  );
});

test("`resolveLayers()` reports every issue of every layer at once", () => {
  const { err, issues } = invalid([
    layer("system", { budget: { session_max_usd: -1 } }),
    layer("user", { nope: 1, workspace: { mode: 3 } }),
    layer("workspace", { retry: { llm_max_attempts: "x" } }),
  ]);
  assert.deepEqual(issues.map((i) => [i.file, i.key]), [
    ["/system.toml", "budget.session_max_usd"],
    ["/user.toml", "nope"],
    ["/user.toml", "workspace.mode"],
    ["/workspace.toml", "retry.llm_max_attempts"],
  ]);
  assert.match(err.message, /4 problems/);
});

test("`resolveLayers()` reports earlier issues passed in together with its own", () => {
  const early = {
    file: "ASTRID_MODEL",
    key: "model.model",
    message: "earlier",
  };
  try {
    resolveLayers([layer("user", { bogus: true })], { issues: [early] });
    assert.fail("expected CONFIG_INVALID");
  } catch (err) {
    assert.ok(KernelError.is(err, "CONFIG_INVALID"));
    assert.deepEqual((err.data?.issues as Issue[]).map((i) => i.key), [
      "model.model",
      "bogus",
    ]);
  }
});

test("`resolveLayers()` never echoes a secret in a type error", () => {
  const { issues } = invalid([
    layer("user", { model: { api_key: ["sk-abc"] } }),
  ]);
  assert.ok(!JSON.stringify(issues).includes("sk-abc"));
});

test("`resolveLayers()` throws RangeError for layers out of order or repeated", () => {
  assert.throws(
    () => resolveLayers([layer("user", {}), layer("system", {})]),
    RangeError,
  );
  assert.throws(
    () => resolveLayers([layer("user", {}), layer("user", {})]),
    RangeError,
  );
});

test("`resolveLayers()` lets a defaults layer replace built-in defaults", () => {
  const config = resolveLayers([
    layer("defaults", { model: { provider: "replay" } }),
  ]);
  assert.deepEqual(config.origin("model.provider"), {
    layer: "defaults",
    source: "/defaults.toml",
  });
});
