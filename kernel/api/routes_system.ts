/**
 * API routes: system.
 *
 * @module
 */
import type { ApiDeps } from "./api.ts";
import type { Router } from "./router.ts";

/**
 * Registers the system routes.
 *
 * @param router The router.
 * @param deps What the routes work on.
 */
export function systemRoutes(router: Router, deps: ApiDeps): void {
  void router;
  void deps;
}
