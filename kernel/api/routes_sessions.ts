/**
 * API routes: sessions.
 *
 * @module
 */
import type { ApiDeps } from "./api.ts";
import type { Router } from "./router.ts";

/**
 * Registers the sessions routes.
 *
 * @param router The router.
 * @param deps What the routes work on.
 */
export function sessionRoutes(router: Router, deps: ApiDeps): void {
  void router;
  void deps;
}
