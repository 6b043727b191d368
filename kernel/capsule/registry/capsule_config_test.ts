import assert from "node:assert/strict";
import { capsuleConfig } from "./capsule_config.ts";
import type { CapsuleManifest } from "../manifest/manifest_types.ts";

const manifest = {
  package: { name: "p" },
  env: [
    { key: "file", type: "string", request: "", enum_values: [] },
    { key: "n", type: "integer", request: "", enum_values: [], default: "3" },
    { key: "mode", type: "string", request: "", enum_values: ["a", "b"] },
    { key: "API_KEY", type: "secret", request: "", enum_values: [] },
  ],
} as unknown as CapsuleManifest;

function refused(values: Record<string, Record<string, string>>): void {
  assert.throws(
    () => capsuleConfig(manifest, values),
    (e: Error & { code?: string }) => e.code === "CONFIG_INVALID",
  );
}

Deno.test("capsule config: operator values override the manifest defaults for declared keys", () => {
  assert.deepEqual(capsuleConfig(manifest, { p: { file: "t.json", n: "7" } }), {
    file: "t.json",
    n: "7",
  });
  assert.deepEqual(capsuleConfig(manifest, { other: { x: "1" } }), { n: "3" });
});

Deno.test("capsule config: an undeclared key, a secret and a value of the wrong type are refused", () => {
  refused({ p: { undeclared: "1" } });
  refused({ p: { API_KEY: "sk-live" } });
  refused({ p: { n: "seven" } });
  refused({ p: { mode: "c" } });
  refused({ p: JSON.parse(`{"__proto__": "x"}`) });
});
