/**
 * Private: the one rule that says whether a child token lies within its
 * parent. `attenuate()` refuses a child that breaks it (`CAPABILITY_WIDENING`)
 * and `verify()` re-checks every link of a chain with it
 * (`CAPABILITY_INVALID`), so a chain can never widen, even if the store is
 * edited.
 *
 * @module
 */
import { isPermissionSubset } from "./permission.ts";
import { compileResourcePattern, patternCovers } from "./resource_pattern.ts";
import type { TokenClaims } from "./token_claims.ts";

/**
 * Finds the first way in which `child` is not a narrowing of `parent`.
 *
 * @param parent The parent's claims.
 * @param child The child's claims.
 * @returns A reason, or `null` when the child is within the parent.
 *
 * @example A child with more permissions is wider
 * ```ts
 * import assert from "node:assert/strict";
 * import { linkProblem } from "./_narrowing.ts";
 * const parent = {
 *   v: 1, id: "00000000-0000-4000-8000-000000000001", principal: "alice",
 *   resource: "file:///ws/**", permissions: ["read"], issued_at: 0,
 *   expires_at: null, scope: "persistent", session: null, issuer_key_id: "0123456789abcdef",
 *   approval_audit_id: null, single_use: false, parent: null, depth: 0,
 *   max_depth: 1, budget_usd_micros: null,
 * } as const;
 * const child = {
 *   ...parent, id: "00000000-0000-4000-8000-000000000002",
 *   parent: parent.id, depth: 1, permissions: ["read", "write"],
 * } as const;
 * assert.match(linkProblem(parent as never, child as never) ?? "", /permissions/);
 * ```
 */
export function linkProblem(
  parent: TokenClaims,
  child: TokenClaims,
): string | null {
  if (child.parent !== parent.id) {
    return `it names parent ${child.parent}, not ${parent.id}`;
  }
  if (parent.single_use) return "its parent is single-use";
  if (child.principal !== parent.principal) {
    return `its principal '${child.principal}' differs from the parent's '${parent.principal}'`;
  }
  if (child.scope !== parent.scope || child.session !== parent.session) {
    return "its scope or session differs from the parent's";
  }
  if (child.depth !== parent.depth + 1) {
    return `its depth ${child.depth} is not the parent's depth + 1`;
  }
  if (child.depth > parent.max_depth) {
    return `its depth ${child.depth} exceeds the parent's max_depth ${parent.max_depth}`;
  }
  if (child.max_depth > parent.max_depth) {
    return `its max_depth ${child.max_depth} exceeds the parent's ${parent.max_depth}`;
  }
  if (!isPermissionSubset(child.permissions, parent.permissions)) {
    return `its permissions [${child.permissions}] are not all in the parent's [${parent.permissions}]`;
  }
  const covered = patternCovers(
    compileResourcePattern(parent.resource),
    compileResourcePattern(child.resource),
  );
  if (!covered) {
    return `its resource '${child.resource}' is not provably within the parent's '${parent.resource}'`;
  }
  const pExp = parent.expires_at;
  if (pExp !== null && (child.expires_at === null || child.expires_at > pExp)) {
    return `it expires after its parent (${
      child.expires_at ?? "never"
    } > ${pExp})`;
  }
  const pBudget = parent.budget_usd_micros;
  const cBudget = child.budget_usd_micros;
  if (pBudget !== null && (cBudget === null || cBudget > pBudget)) {
    return `its budget ${
      cBudget ?? "unlimited"
    } exceeds the parent's ${pBudget} micro-USD`;
  }
  if (child.issued_at < parent.issued_at) {
    return "it was issued before its parent";
  }
  return null;
}
