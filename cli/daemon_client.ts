/**
 * The CLI's way to the daemon: connect to the home's socket, starting an
 * ephemeral daemon when none runs — or, with `--url` / `ASTRID_URL`, to a
 * headless server with the token of `ASTRID_TOKEN`.
 *
 * @module
 */
import { ApiClient, KernelError } from "../mod.ts";
import type { GlobalFlags } from "./flags.ts";
import { UsageError } from "./output.ts";

/**
 * Connects to the daemon of `ASTRID_HOME`, auto-starting one; or to the
 * headless server of `--url` / `ASTRID_URL`.
 *
 * @param flags Global flags.
 * @returns A client with the daemon's token.
 */
export function connectDaemon(flags: GlobalFlags): Promise<ApiClient> {
  const url = flags.url ?? Deno.env.get("ASTRID_URL");
  if (url !== undefined && url !== "") {
    if (!/^https?:\/\//.test(url)) {
      return Promise.reject(
        new UsageError(`--url must be http:// or https:// (got '${url}')`),
      );
    }
    const token = Deno.env.get("ASTRID_TOKEN") ?? "";
    if (token === "") {
      return Promise.reject(
        new UsageError(
          "--url needs the server's bearer token in ASTRID_TOKEN",
        ),
      );
    }
    return Promise.resolve(new ApiClient({ baseUrl: url }, token));
  }
  return Promise.reject(
    new KernelError("DAEMON_UNAVAILABLE", "connectDaemon is being built"),
  );
}
