import assert from "node:assert/strict";
import { parseManifest } from "./parse_manifest.ts";

const base =
  `[package]\nname = "x"\nversion = "0.1.0"\n[[component]]\ntype = "js"\nfile = "x.js"\n`;

Deno.test("[[component]].source: the entry `astrid capsule build` compiles — a relative path, optional", () => {
  const plain = parseManifest(base, {
    file: "Capsule.toml",
    kernelVersion: "0.1.0",
  });
  assert.ok(plain.ok);
  assert.equal(plain.value.component?.source, undefined);
  const named = parseManifest(`${base}source = "src/main.ts"\n`, {
    file: "Capsule.toml",
    kernelVersion: "0.1.0",
  });
  assert.ok(named.ok);
  assert.equal(named.value.component?.source, "src/main.ts");
  for (const bad of ['"../main.ts"', '"/abs/main.ts"', "3"]) {
    const r = parseManifest(`${base}source = ${bad}\n`, {
      file: "Capsule.toml",
      kernelVersion: "0.1.0",
    });
    assert.ok(!r.ok, bad);
    assert.match(r.issues[0]?.key ?? "", /component\[0\]\.source/, bad);
  }
});
