import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { parseDistro } from "./distro.ts";
import {
  distroGroups,
  pickCapsules,
  resolveSettings,
  usedVariables,
} from "./distro_setup.ts";

const DISTRO = parseDistro(
  `schema-version = 1
[distro]
id = "d"
name = "D"
version = "1.0.0"
[variables]
model = { description = "Model" }
url = { default = "http://x" }
[[capsule]]
name = "p-a"
source = "p-a"
version = "1.0.0"
group = "llm"
env = { MODEL = "{{ model }}", URL = "{{url}}/v1" }
[[capsule]]
name = "p-b"
source = "p-b"
version = "1.0.0"
group = "llm"
[[capsule]]
name = "solo"
source = "solo"
version = "1.0.0"
group = "alone"
[[capsule]]
name = "core"
source = "core"
version = "1.0.0"
`,
  "Distro.toml",
);

Deno.test("distroGroups: only groups with alternatives", () => {
  assert.deepEqual([...distroGroups(DISTRO).keys()], ["llm"]);
});

Deno.test("pickCapsules: a group's pick narrows it; everything else stays; bad picks are refused", () => {
  assert.deepEqual(
    [...pickCapsules(DISTRO, { llm: ["p-b"] })],
    ["p-b", "solo", "core"],
  );
  assert.deepEqual([...pickCapsules(DISTRO, {})].length, 4);
  for (
    const picks of [{ llm: ["core"] }, { llm: [] }, { nope: ["p-a"] }]
  ) {
    assert.throws(
      () => pickCapsules(DISTRO, picks),
      (e) => KernelError.is(e, "INVALID_INPUT"),
    );
  }
});

Deno.test("resolveSettings: fills templates from values, then defaults; a variable with neither is named", () => {
  const picked = pickCapsules(DISTRO, {});
  assert.deepEqual(usedVariables(DISTRO, picked), ["model", "url"]);
  assert.throws(
    () => resolveSettings(DISTRO, picked, {}),
    (e) => KernelError.is(e, "INVALID_INPUT") && /'model'/.test(e.message),
  );
  assert.deepEqual(resolveSettings(DISTRO, picked, { model: "m1" }), [
    { capsule: "p-a", key: "MODEL", value: "m1" },
    { capsule: "p-a", key: "URL", value: "http://x/v1" },
  ]);
  // Not picked: its variables are not asked.
  assert.deepEqual(
    resolveSettings(DISTRO, pickCapsules(DISTRO, { llm: ["p-b"] }), {}),
    [],
  );
});
