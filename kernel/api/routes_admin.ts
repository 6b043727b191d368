/**
 * API routes: admin.
 *
 * @module
 */
import type { ApiDeps } from "./api.ts";
import type { Router } from "./router.ts";

/**
 * Registers the admin routes.
 *
 * @param router The router.
 * @param deps What the routes work on.
 */
export function adminRoutes(router: Router, deps: ApiDeps): void {
  void router;
  void deps;
}
