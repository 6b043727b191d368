/**
 * `ASTRID_REPLAY_FILE`: the operator names a recorded transcript for the
 * `provider-replay` capsule (offline demo, tests). The kernel reads the file
 * with the operator's authority and hands its text to the capsule as its
 * `replay_transcript` configuration, so the capsule needs no file grant
 * beyond its own (`cwd://.astrid/replay`, `home://replay`) wherever the file
 * is. Pass the result as the runtime's `capsuleConfig`.
 *
 * @module
 */
import * as path from "node:path";
import { KernelError } from "../core/errors.ts";
import type { Env, FileSystem } from "../core/ports.ts";

/** The environment variable naming the transcript. */
export const REPLAY_FILE_ENV = "ASTRID_REPLAY_FILE";

/** The largest transcript read: 8 MiB. */
const MAX_BYTES = 8 * 1024 * 1024;

/**
 * The `capsuleConfig` entry for `ASTRID_REPLAY_FILE`, or `{}` when unset.
 *
 * @param env The process environment.
 * @param fs The host file system.
 * @param cwd Where a relative path starts.
 * @returns `{"provider-replay": {replay_transcript}}` or `{}`.
 * @throws {KernelError} `INVALID_INPUT` when the file is larger than 8 MiB;
 *   the file system's errors when it cannot be read.
 *
 * @example Unset: no configuration
 * ```ts
 * import { replayConfigFromEnv } from "./replay_env.ts";
 * import { MemoryEnv } from "../testing/memory_env.ts";
 * import { createDenoFs } from "../host/deno_fs.ts";
 * const config = await replayConfigFromEnv(new MemoryEnv({}), createDenoFs(), "/");
 * console.assert(Object.keys(config).length === 0);
 * ```
 */
export async function replayConfigFromEnv(
  env: Env,
  fs: FileSystem,
  cwd: string,
): Promise<Record<string, Record<string, string>>> {
  const file = env.get(REPLAY_FILE_ENV);
  if (file === undefined || file === "") return {};
  const bytes = await fs.readFile(path.resolve(cwd, file));
  if (bytes.length > MAX_BYTES) {
    throw new KernelError(
      "INVALID_INPUT",
      `Cannot use ${REPLAY_FILE_ENV}: the transcript is ${bytes.length} bytes, more than ${MAX_BYTES}`,
    );
  }
  return {
    "provider-replay": {
      replay_transcript: new TextDecoder().decode(bytes),
    },
  };
}
