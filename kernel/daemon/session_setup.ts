/**
 * How a session of the installed agent is set up, for every frontend that
 * runs one (`astrid agent` in-process, the daemon's session hub): the
 * capsules' configuration (`$ASTRID_HOME/etc/capsules.toml` plus the replay
 * transcript of `ASTRID_REPLAY_FILE`) and the provider and model of its turns
 * (`ASTRID_PROVIDER`, else config `model.provider`; config `model.model`).
 *
 * @module
 */
import * as path from "node:path";
import type { Env } from "../core/ports.ts";
import type { CapsuleConfigValues } from "../capsule/registry/capsule_config.ts";
import type { KernelHandle } from "./boot.ts";
import {
  CAPSULE_CONFIG_FILE,
  readCapsuleConfigFile,
} from "./capsule_config_file.ts";
import { replayConfigFromEnv } from "./replay_env.ts";

/** The environment variable that picks the provider of every turn. */
export const PROVIDER_ENV = "ASTRID_PROVIDER";

/**
 * The capsules' configuration of a session: `capsules.toml` of the home,
 * with the replay transcript of `ASTRID_REPLAY_FILE` over its
 * `[provider-replay]` table.
 *
 * @param kernel The kernel (home, file system).
 * @param env The environment the operator started the frontend with.
 * @param cwd Where a relative `ASTRID_REPLAY_FILE` starts.
 * @returns Capsule name → key → value (the runtime's `capsuleConfig`).
 * @throws {KernelError} `CONFIG_INVALID` for a bad `capsules.toml`;
 *   `INVALID_INPUT` for a transcript over 8 MiB; file system errors.
 */
export async function sessionCapsuleConfig(
  kernel: KernelHandle,
  env: Env,
  cwd: string,
): Promise<CapsuleConfigValues> {
  const fs = kernel.ports.fs;
  const fromFile = await readCapsuleConfigFile(
    fs,
    path.join(kernel.home.etc, CAPSULE_CONFIG_FILE),
  );
  const replay = await replayConfigFromEnv(env, fs, cwd);
  return {
    ...fromFile,
    "provider-replay": {
      ...fromFile["provider-replay"],
      ...replay["provider-replay"],
    },
  };
}

/**
 * The provider and model of a session's turns: `ASTRID_PROVIDER`, else
 * config `model.provider`; config `model.model`. Absent values leave the
 * choice to the orchestrator.
 *
 * @param kernel The kernel (its configuration).
 * @param env The environment the operator started the frontend with.
 * @returns `provider` and `model` when known (the `AgentSession` options).
 */
export function sessionModel(
  kernel: KernelHandle,
  env: Env,
): { provider?: string; model?: string } {
  const configured = kernel.config.get("model.provider");
  const provider = env.get(PROVIDER_ENV) ||
    (configured !== "unknown" ? configured : undefined);
  const model = kernel.config.get("model.model");
  return {
    ...(provider ? { provider } : {}),
    ...(model !== "unknown" ? { model } : {}),
  };
}
