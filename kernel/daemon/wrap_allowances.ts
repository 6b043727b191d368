/**
 * The start-up checks a wrapped MCP server needs, allowed when the operator
 * approves its install (`astrid mcp wrap --install-only`).
 *
 * Why: in `safe` and `guided` mode an MCP server's permission check of an
 * environment variable asks a human. A server reads its variables while it
 * starts — before any host call exists, so there is nobody to ask: the check
 * is deferred and the server stops. The operator who approved the install
 * saw those names and approved them; this turns that approval into one
 * workspace-scoped allowance per name (`mcp_permission_check` env `NAME`,
 * scope `workspace`: only in the wrap's workspace, revocable like any
 * allowance), each recorded in the audit chain.
 *
 * Security model: only names the installed manifest declares in `[env]`,
 * never a `secret` (secrets keep asking), only the `env` permission (reads,
 * writes, network and processes keep their mode rules and grants), only
 * stdio servers of the manifest. The manifest grant layer still runs first:
 * an allowance never lets through what the manifest does not grant.
 *
 * @module
 */
import { type CapsuleId, newSessionId, uuidV4 } from "../core/ids.ts";
import type { Action } from "../security/action.ts";
import type { GateContext } from "../security/context.ts";
import type { CapsuleManifest } from "../capsule/manifest/manifest_types.ts";
import type { KernelHandle } from "./boot.ts";

/**
 * Grants the workspace allowances of a wrapped server's start-up env checks.
 *
 * @param kernel The kernel that installed the capsule.
 * @param options The installed manifest, the wrap's workspace and who approved.
 * @returns The env names allowed.
 */
export async function allowWrapStartChecks(
  kernel: KernelHandle,
  options: {
    readonly manifest: CapsuleManifest;
    readonly workspace: string;
    readonly approvedBy: string;
  },
): Promise<string[]> {
  const { manifest, workspace } = options;
  const random = kernel.ports.random;
  const names = manifest.env.filter((e) => e.type !== "secret").map((e) =>
    e.key
  );
  const allowed: string[] = [];
  for (const server of manifest.mcp_servers) {
    if (server.type !== "stdio") continue;
    for (const name of names) {
      const action: Action = {
        type: "mcp_permission_check",
        server: server.id,
        permission: "env",
        value: name,
      };
      const ctx: GateContext = {
        principal: kernel.principal,
        session: newSessionId(random),
        capsule: manifest.package.name as CapsuleId,
        workspace,
        callId: uuidV4(random),
      };
      const allowance = await kernel.security.allowances.grant(action, ctx, {
        scope: "workspace",
      });
      if (allowance === null) continue;
      await kernel.security.audit.append({
        principal: ctx.principal,
        session: ctx.session,
        capsule: manifest.package.name as CapsuleId,
        call_id: ctx.callId,
        action,
        decision: "allowed",
        proof: {
          type: "operator",
          option: "allow_workspace",
          allowance_id: allowance.id,
          approved_by: options.approvedBy,
          reason: "approved with the wrapped server's install",
        },
        outcome: null,
      });
      allowed.push(name);
    }
  }
  return allowed;
}
