/**
 * The MCP fixture capsule of the `astrid mcp serve` tests, the conformance
 * run and the bench: `conformance`, one Deno MCP server written with the v2
 * server SDK (`tests/fixtures/mcp_serve/server.ts`) offering the tools,
 * resources and prompts the conformance server scenarios call. Installed
 * into a throwaway home with a signed install record, as `astrid capsule
 * install` would.
 *
 * @module
 */
import * as path from "node:path";
import { startKernel } from "../kernel/daemon/boot.ts";
import { MemoryEnv } from "../kernel/testing/memory_env.ts";
import { MemoryLogger } from "../kernel/testing/memory_logger.ts";
import { denoServerManifest } from "./mcp_fixture_test.ts";
import { pinCapsule } from "./test_kernel_test.ts";

/** The fixture server's source. */
export const FIXTURE_SERVER: string = path.resolve(
  import.meta.dirname ?? ".",
  "fixtures/mcp_serve/server.ts",
);

/** The fixture capsule's name. */
export const FIXTURE_CAPSULE = "conformance";

/**
 * Installs the fixture MCP capsule into a home.
 *
 * @param env The home's environment (`ASTRID_HOME`, `HOME`).
 * @returns The capsule's directory.
 */
export async function installFixtureCapsule(
  env: Record<string, string>,
): Promise<string> {
  const kernel = await startKernel({
    env: new MemoryEnv(env),
    ignoreSystemConfig: true,
    logger: new MemoryLogger(),
  });
  try {
    const dir = path.join(
      kernel.home.home(kernel.principal).capsules,
      FIXTURE_CAPSULE,
    );
    await Deno.mkdir(dir, { recursive: true });
    await Deno.copyFile(FIXTURE_SERVER, path.join(dir, "server.ts"));
    await pinCapsule(
      kernel,
      dir,
      denoServerManifest(FIXTURE_CAPSULE, { id: "fixture", mode: "flags" }),
    );
    return dir;
  } finally {
    await kernel.close();
  }
}

/**
 * The URL `astrid mcp serve --http` prints on stderr once it listens; the
 * rest of stderr is drained so the child never blocks on a full pipe.
 *
 * @param stderr The child's stderr.
 * @returns The `http://127.0.0.1:PORT/mcp` URL.
 */
export async function listeningUrl(
  stderr: ReadableStream<Uint8Array>,
): Promise<string> {
  let seen = "";
  const reader = stderr.pipeThrough(new TextDecoderStream()).getReader();
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`astrid mcp serve --http ended: ${seen}`);
    seen += value;
    const m = /(http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(seen);
    if (m) {
      (async () => {
        while (!(await reader.read()).done) { /* drain */ }
      })().catch(() => {});
      return m[1]!;
    }
  }
}
