/**
 * API routes: admin — capsules (list, tree, install, update, remove,
 * reload; `admin_capsules.ts`), audit (list, show, verify, export, stats;
 * `admin_audit.ts`), the runtime's public keys, and the effective config.
 *
 * @module
 */
import { keyId, publicKeyToBase64 } from "../crypto/key_id.ts";
import { KernelError } from "../core/errors.ts";
import type { ApiDeps } from "./api.ts";
import { auditHandlers } from "./admin_audit.ts";
import { capsuleHandlers } from "./admin_capsules.ts";
import type { ConfigBody, KeysBody } from "./contract_admin.ts";
import { jsonResponse, type RouteContext, type Router } from "./router.ts";

function noParams(ctx: RouteContext): void {
  const first = ctx.url.searchParams.keys().next();
  if (!first.done) {
    throw new KernelError(
      "API_BAD_REQUEST",
      `Unknown query parameter '${first.value.slice(0, 64)}'`,
    );
  }
}

/**
 * Registers the admin routes.
 *
 * @param router The router.
 * @param deps What the routes work on.
 */
export function adminRoutes(router: Router, deps: ApiDeps): void {
  const capsules = capsuleHandlers(deps);
  const audit = auditHandlers(deps.kernel);
  router
    .on("capsulesList", capsules.list)
    .on("capsulesTree", capsules.tree)
    .on("capsulesInstall", capsules.install)
    .on("capsulesUpdate", capsules.update)
    .on("capsulesRemove", capsules.remove)
    .on("capsulesReload", capsules.reload)
    .on("auditList", audit.list)
    .on("auditShow", audit.show)
    .on("auditVerify", audit.verify)
    .on("auditExport", audit.exportJsonl)
    .on("auditStats", audit.stats)
    .on("keys", (ctx) => {
      noParams(ctx);
      const key = deps.kernel.runtimeKey;
      const body: KeysBody = {
        key_id: key.keyId,
        public_key: publicKeyToBase64(key.publicKey),
        created_this_boot: deps.kernel.keyCreated,
        trusted: deps.kernel.security.audit.trustedPublicKeys().map((k) => ({
          key_id: keyId(k),
          public_key: publicKeyToBase64(k),
        })),
      };
      return jsonResponse(body);
    })
    .on("config", (ctx) => {
      noParams(ctx);
      const body: ConfigBody = { entries: deps.kernel.config.entries() };
      return jsonResponse(body);
    });
}
