/**
 * Resources from `actionInfo()` are exact strings; token resources are glob
 * patterns. Escaping the glob metacharacters makes an Allow Always token cover
 * exactly the approved resource and nothing a `*` in a file name would widen.
 *
 * @module
 */

/**
 * Escapes `\`, `*`, `?`, `[` and `]` so the resource matches only itself.
 *
 * @param resource An exact resource string.
 * @returns A glob pattern matching exactly that string.
 */
export function escapeResource(resource: string): string {
  return resource.replace(/[\\*?[\]]/g, (c) => `\\${c}`);
}
