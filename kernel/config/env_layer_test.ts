import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import type { Env } from "../core/ports.ts";
import { readEnvLayer } from "./env_layer.ts";
import { resolveLayers } from "./resolve_layers.ts";

const test = (name: string, fn: () => void) =>
  Deno.test({ name, permissions: "none", fn });

function envOf(vars: Record<string, string>): Env {
  return { get: (name) => Object.hasOwn(vars, name) ? vars[name] : undefined };
}

function resolveEnv(vars: Record<string, string>) {
  const { layer, issues } = readEnvLayer(envOf(vars));
  return resolveLayers([layer], { issues });
}

test("`readEnvLayer()` maps the documented ASTRID_* variables to their keys", () => {
  const config = resolveEnv({
    ASTRID_MODEL_PROVIDER: "anthropic",
    ASTRID_MODEL: "claude-x",
    ASTRID_MODEL_API_URL: "https://api.example/v1",
    ASTRID_MODEL_API_KEY: "sk-test",
    ASTRID_LOG_LEVEL: "debug",
    ASTRID_LOG_FORMAT: "json",
    ASTRID_BUDGET_SESSION_MAX_USD: "12.5",
    ASTRID_BUDGET_PER_ACTION_MAX_USD: "0.75",
    ASTRID_WORKSPACE_MODE: "guided",
    ASTRID_SUBAGENT_MAX_CONCURRENT: "2",
    ASTRID_SUBAGENT_MAX_DEPTH: "1",
    ASTRID_SUBAGENT_TIMEOUT_SECS: "60",
    ASTRID_RETRY_LLM_MAX_ATTEMPTS: "4",
    ASTRID_RETRY_MCP_MAX_ATTEMPTS: "6",
  });
  const v = config.values;
  assert.deepEqual(
    [v.model.provider, v.model.model, v.model.api_url, v.model.api_key],
    ["anthropic", "claude-x", "https://api.example/v1", "sk-test"],
  );
  assert.deepEqual([v.logging.level, v.logging.format], ["debug", "json"]);
  assert.deepEqual([v.budget.session_max_usd, v.budget.per_action_max_usd], [
    12.5,
    0.75,
  ]);
  assert.equal(v.workspace.mode, "guided");
  assert.deepEqual(
    [
      v.subagents.max_concurrent,
      v.subagents.max_depth,
      v.subagents.timeout_secs,
    ],
    [2, 1, 60],
  );
  assert.deepEqual([v.retry.llm_max_attempts, v.retry.mcp_max_attempts], [
    4,
    6,
  ]);
  assert.deepEqual(config.origin("budget.session_max_usd"), {
    layer: "env",
    source: "ASTRID_BUDGET_SESSION_MAX_USD",
  });
});

test("`readEnvLayer()` ignores unset and empty variables", () => {
  const { layer, issues } = readEnvLayer(
    envOf({ ASTRID_MODEL: "", ASTRID_LOG_LEVEL: "warn" }),
  );
  assert.deepEqual(issues, []);
  assert.deepEqual(layer.keySources, { "logging.level": "ASTRID_LOG_LEVEL" });
});

test("`readEnvLayer()` reports a bad number naming the variable as the file", () => {
  const { issues } = readEnvLayer(
    envOf({ ASTRID_BUDGET_SESSION_MAX_USD: "12 dollars" }),
  );
  assert.deepEqual(issues, [{
    file: "ASTRID_BUDGET_SESSION_MAX_USD",
    key: "budget.session_max_usd",
    message: "expected a number, got '12 dollars'",
  }]);
});

test("`readEnvLayer()` rejects a fraction for an integer variable", () => {
  const { issues } = readEnvLayer(envOf({ ASTRID_SUBAGENT_MAX_DEPTH: "2.5" }));
  assert.equal(issues[0]?.message, "expected an integer, got '2.5'");
});

test("`readEnvLayer()` trims spaces around numbers and enum values", () => {
  const config = resolveEnv({
    ASTRID_BUDGET_PER_ACTION_MAX_USD: " 3 ",
    ASTRID_WORKSPACE_MODE: "safe\n",
  });
  assert.equal(config.get("budget.per_action_max_usd"), 3);
  assert.equal(config.get("workspace.mode"), "safe");
});

test("`resolveLayers()` rejects a bad env value with CONFIG_INVALID naming the variable", () => {
  try {
    resolveEnv({
      ASTRID_BUDGET_SESSION_MAX_USD: "abc",
      ASTRID_WORKSPACE_MODE: "turbo",
    });
    assert.fail("expected CONFIG_INVALID");
  } catch (err) {
    assert.ok(KernelError.is(err, "CONFIG_INVALID"));
    assert.match(
      err.message,
      /ASTRID_BUDGET_SESSION_MAX_USD: budget\.session_max_usd: expected a number, got 'abc'/,
    );
    assert.match(
      err.message,
      /ASTRID_WORKSPACE_MODE: workspace\.mode: expected one of 'safe', 'guided', 'autonomous', 'yolo', got 'turbo'/,
    );
  }
});

test("`resolveLayers()` reports an out-of-range env value naming the variable", () => {
  try {
    resolveEnv({ ASTRID_BUDGET_SESSION_MAX_USD: "-5" });
    assert.fail("expected CONFIG_INVALID");
  } catch (err) {
    assert.ok(KernelError.is(err, "CONFIG_INVALID"));
    assert.deepEqual(err.data?.issues, [{
      file: "ASTRID_BUDGET_SESSION_MAX_USD",
      key: "budget.session_max_usd",
      message: "expected at least 0, got -5",
    }]);
  }
});

test("`ASTRID_STORE_URL` takes a password-free postgres:// URL, and a URL with a password is refused without echoing it", () => {
  const url = "postgres://astrid@db.internal:5432/astrid";
  assert.equal(resolveEnv({ ASTRID_STORE_URL: url }).get("store.url"), url);
  assert.equal(resolveEnv({}).get("store.url"), "");
  for (
    const bad of [
      "postgres://astrid:hunter2@db/astrid",
      "mysql://db/hunter2",
      "hunter2",
    ]
  ) {
    assert.throws(
      () => resolveEnv({ ASTRID_STORE_URL: bad }),
      (e: unknown) =>
        KernelError.is(e, "CONFIG_INVALID") &&
        /store\.url: expected '' or a postgres:\/\/ URL/.test(e.message) &&
        !JSON.stringify([e.message, e.data]).includes("hunter2"),
    );
  }
});

test("`ASTRID_NATS_URL` takes nats:// URLs without credentials, and a URL with a token or password is refused without echoing it", () => {
  const url = "nats://10.0.0.5:4222,nats://10.0.0.6:4222";
  assert.equal(
    resolveEnv({ ASTRID_NATS_URL: url }).get("cluster.nats_url"),
    url,
  );
  assert.equal(resolveEnv({}).get("cluster.nats_url"), "");
  for (
    const bad of [
      "nats://hunter2@nats:4222",
      "nats://astrid:hunter2@nats:4222",
      "nats://ok:4222,nats://u:hunter2@b:4222",
      "http://nats/hunter2",
      "nats://nats:4222/?token=hunter2",
      "hunter2",
    ]
  ) {
    assert.throws(
      () => resolveEnv({ ASTRID_NATS_URL: bad }),
      (e: unknown) =>
        KernelError.is(e, "CONFIG_INVALID") &&
        /cluster\.nats_url: expected '' or nats:\/\/host:port URLs/.test(
          e.message,
        ) &&
        !JSON.stringify([e.message, e.data]).includes("hunter2"),
    );
  }
});
