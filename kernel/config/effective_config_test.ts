import assert from "node:assert/strict";
import { resolveLayers } from "./resolve_layers.ts";

const test = (name: string, fn: () => void) =>
  Deno.test({ name, permissions: "none", fn });

test("`EffectiveConfig.entries()` redacts a set API key unless asked to reveal it", () => {
  const config = resolveLayers([{
    name: "user",
    source: "/u.toml",
    values: { model: { api_key: "sk-live" } },
  }]);
  const row = config.entries().find((e) => e.key === "model.api_key");
  assert.deepEqual(row, {
    key: "model.api_key",
    value: "********",
    layer: "user",
    source: "/u.toml",
    secret: true,
    description: "Provider API key",
  });
  assert.equal(
    config.entries({ revealSecrets: true }).find((e) =>
      e.key === "model.api_key"
    )?.value,
    "sk-live",
  );
  assert.equal(config.get("model.api_key"), "sk-live");
});

test("`EffectiveConfig.entries()` shows an empty secret as empty", () => {
  const row = resolveLayers([]).entries().find((e) =>
    e.key === "model.api_key"
  );
  assert.equal(row?.value, "");
});

test("`EffectiveConfig.values` is deeply frozen", () => {
  const config = resolveLayers([]);
  assert.ok(Object.isFrozen(config.values.security.policy));
  assert.ok(Object.isFrozen(config.values.security.policy.denied_paths));
  assert.throws(() => {
    (config.values.workspace as { mode: string }).mode = "yolo";
  }, TypeError);
});

test("`EffectiveConfig.get()` and `origin()` throw RangeError for an unknown key", () => {
  const config = resolveLayers([]);
  assert.throws(() => config.get("nope" as "workspace.mode"), RangeError);
  assert.throws(
    () => config.origin("security" as "workspace.mode"),
    RangeError,
  );
});

test("`EffectiveConfig` does not share lists with the layer that supplied them", () => {
  const hosts = ["a.example"];
  const config = resolveLayers([{
    name: "user",
    source: "/u",
    values: { security: { policy: { allowed_hosts: hosts } } },
  }]);
  hosts.push("evil.example");
  assert.deepEqual(config.get("security.policy.allowed_hosts"), ["a.example"]);
});
