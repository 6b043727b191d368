/**
 * What a CLI needs to start a daemon: its Deno flags. A module of its own so
 * that starting a daemon loads the flag computation (config, manifests) and
 * not the whole kernel (`mod.ts`).
 *
 * @module
 */
export { daemonFlags } from "./deno_flags.ts";
export type { DaemonFlags, DaemonFlagsInput } from "./deno_flags.ts";
