// deno-lint-ignore-file no-console -- a setup entry point reports progress on the terminal
/**
 * `deno task setup`: pre-fetches everything the first run of this checkout
 * downloads ({@linkcode prefetch}), printing each step and its time, so that
 * later runs work offline with the same `DENO_DIR`.
 *
 * @module
 */
import * as path from "node:path";
import { KernelError, prefetch } from "../mod.ts";

const root = path.resolve(import.meta.dirname ?? ".", "..");
const scratch = await Deno.makeTempDir({ prefix: "astrid-setup-" });
try {
  const dir = await prefetch(root, scratch, (step) => {
    console.log(
      step.phase === "start"
        ? `setup: ${step.name} …`
        : `setup: ${step.name}: done in ${
          ((step.ms ?? 0) / 1000).toFixed(1)
        } s`,
    );
  });
  console.log(
    `setup: everything the first run needs is cached in ${
      dir ?? "Deno's default cache"
    }`,
  );
} catch (err) {
  console.error(
    KernelError.is(err)
      ? `error[${err.code}]: ${err.message}`
      : `error: ${String(err)}`,
  );
  Deno.exitCode = 1;
} finally {
  await Deno.remove(scratch, { recursive: true });
}
