/**
 * Tests that need a Debian package (PostgreSQL, nats-server): ignored with a
 * message on a developer's machine that lacks it, failing under `CI=true`
 * (CI installs it in `.ci/setup` and must run them).
 *
 * @module
 */

/**
 * Registers a test that needs something the machine may lack.
 *
 * @param what What the tests are called in the CI failure ("PostgreSQL tests").
 * @param missing Why it cannot run (`undefined`: it can).
 * @param name The test name.
 * @param fn The test.
 */
export function needsTest(
  what: string,
  missing: string | undefined,
  name: string,
  fn: (t: Deno.TestContext) => Promise<void>,
): void {
  const ci = Deno.env.get("CI") === "true";
  Deno.test({
    name: missing && !ci ? `${name} (skipped: ${missing})` : name,
    ignore: missing !== undefined && !ci,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: missing
      ? () => {
        throw new Error(`CI must run the ${what}: ${missing}`);
      }
      : fn,
  });
}
