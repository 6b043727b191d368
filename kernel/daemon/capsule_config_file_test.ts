import assert from "node:assert/strict";
import * as path from "node:path";
import { createDenoFs } from "../host/deno_fs.ts";
import { readCapsuleConfigFile } from "./capsule_config_file.ts";

Deno.test("capsules.toml: tables become each capsule's values (as text); a missing file is none; a malformed one is CONFIG_INVALID", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fs = createDenoFs();
    const file = path.join(dir, "capsules.toml");
    assert.deepEqual(await readCapsuleConfigFile(fs, file), {});
    await Deno.writeTextFile(
      file,
      `[provider-openai]\nbase_url = "http://127.0.0.1:8000"\nmax = 3\non = true\n`,
    );
    assert.deepEqual(await readCapsuleConfigFile(fs, file), {
      "provider-openai": {
        base_url: "http://127.0.0.1:8000",
        max: "3",
        on: "true",
      },
    });
    await Deno.writeTextFile(file, `top = "x"\n`);
    await assert.rejects(
      readCapsuleConfigFile(fs, file),
      (e: Error & { code?: string }) => e.code === "CONFIG_INVALID",
    );
    await Deno.writeTextFile(file, `[a\n`);
    await assert.rejects(
      readCapsuleConfigFile(fs, file),
      (e: Error & { code?: string }) => e.code === "CONFIG_INVALID",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
