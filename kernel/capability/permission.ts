/**
 * The permissions a capability token can carry (reference §6.4), and their
 * canonical, de-duplicated order.
 *
 * `kernel/security/action.ts` uses the same union; the capability layer owns
 * it because `capability/` may not import `security/`.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";

/** One permission a capability token can carry. */
export type Permission =
  | "read"
  | "write"
  | "execute"
  | "delete"
  | "invoke"
  | "list"
  | "create";

/**
 * Every permission, in canonical order (the order minted tokens list them in).
 *
 * @example List the permissions
 * ```ts
 * import assert from "node:assert/strict";
 * import { PERMISSIONS } from "./permission.ts";
 * assert.equal(PERMISSIONS.length, 7);
 * assert.equal(PERMISSIONS[0], "read");
 * ```
 */
export const PERMISSIONS: readonly Permission[] = Object.freeze([
  "read",
  "write",
  "execute",
  "delete",
  "invoke",
  "list",
  "create",
]);

/**
 * Tells whether `value` is one of the {@linkcode PERMISSIONS}.
 *
 * @param value Anything.
 * @returns `true` for a known permission name.
 *
 * @example Recognise permissions
 * ```ts
 * import assert from "node:assert/strict";
 * import { isPermission } from "./permission.ts";
 * assert.ok(isPermission("read"));
 * assert.ok(!isPermission("admin"));
 * assert.ok(!isPermission("toString"));
 * ```
 */
export function isPermission(value: unknown): value is Permission {
  return typeof value === "string" &&
    (PERMISSIONS as readonly string[]).includes(value);
}

/**
 * Checks a permission list given by a caller and returns it in canonical
 * order without duplicates.
 *
 * @param permissions The permissions to grant.
 * @returns A frozen, sorted, de-duplicated copy.
 * @throws {KernelError} `INVALID_INPUT` when the list is empty, not an array,
 * or names an unknown permission.
 *
 * @example Sort and de-duplicate
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizePermissions } from "./permission.ts";
 * assert.deepEqual(normalizePermissions(["write", "read", "write"]), ["read", "write"]);
 * ```
 */
export function normalizePermissions(
  permissions: readonly Permission[],
): readonly Permission[] {
  if (!Array.isArray(permissions) || permissions.length === 0) {
    throw new KernelError(
      "INVALID_INPUT",
      "Cannot grant an empty permission list: name at least one of " +
        PERMISSIONS.join(", "),
    );
  }
  for (const p of permissions) {
    if (!isPermission(p)) {
      const shown = typeof p === "string"
        ? JSON.stringify(p.slice(0, 40))
        : typeof p;
      throw new KernelError(
        "INVALID_INPUT",
        `Cannot grant unknown permission ${shown}: expected one of ${
          PERMISSIONS.join(", ")
        }`,
      );
    }
  }
  const set = new Set<Permission>(permissions);
  return Object.freeze(PERMISSIONS.filter((p) => set.has(p)));
}

/**
 * Tells whether every permission of `child` is also in `parent`.
 *
 * @param child The narrower list.
 * @param parent The wider list.
 * @returns `true` when `child` ⊆ `parent`.
 *
 * @example Subsets
 * ```ts
 * import assert from "node:assert/strict";
 * import { isPermissionSubset } from "./permission.ts";
 * assert.ok(isPermissionSubset(["read"], ["read", "write"]));
 * assert.ok(!isPermissionSubset(["read", "delete"], ["read", "write"]));
 * ```
 */
export function isPermissionSubset(
  child: readonly Permission[],
  parent: readonly Permission[],
): boolean {
  return child.every((p) => parent.includes(p));
}
