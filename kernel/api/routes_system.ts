/**
 * API routes: system — `status`, `clusterStatus` and `shutdown`.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import { processFacts } from "../host/process_info.ts";
import { VERSION } from "../../version.ts";
import type { ApiDeps } from "./api.ts";
import type { StatusInfo } from "./contract.ts";
import { jsonResponse, type Router } from "./router.ts";
import { clusterStatus, natsUnchecked } from "../cluster/cluster_status.ts";

/**
 * Registers the system routes.
 *
 * @param router The router.
 * @param deps What the routes work on.
 */
export function systemRoutes(router: Router, deps: ApiDeps): void {
  router.on("status", async () => {
    const facts = processFacts();
    const counts = await deps.hub.counts();
    const status: StatusInfo = {
      version: VERSION,
      deno: facts.deno,
      pid: facts.pid,
      principal: deps.kernel.principal,
      uptime_ms: Math.max(0, deps.kernel.ports.clock.now() - deps.startedAt),
      sessions: { known: counts.known, live: counts.live },
      engines: deps.engines,
      key_id: deps.kernel.runtimeKey.keyId,
      mode: deps.mode,
      idle_timeout_ms: deps.idleTimeoutMs,
    };
    return jsonResponse(status);
  });
  router.on("clusterStatus", async () => {
    const status = deps.cluster ? await deps.cluster() : await clusterStatus({
      store: deps.kernel.store,
      clock: deps.kernel.ports.clock,
      node: null,
      nats: natsUnchecked(""),
    });
    return jsonResponse(status);
  });
  router.on("shutdown", () => {
    if (deps.mode !== "socket") {
      throw new KernelError(
        "API_METHOD_NOT_ALLOWED",
        "A headless server stops with its process, not through the API",
      );
    }
    // Answer first; the graceful stop lets this response finish.
    setTimeout(deps.shutdown, 0);
    return jsonResponse({ stopping: true }, 202);
  });
}
