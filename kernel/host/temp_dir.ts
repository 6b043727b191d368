/**
 * A fresh private temporary directory (for throwaway homes of test kernels).
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";

/**
 * Creates a new `0700` temporary directory and returns its canonical path.
 *
 * @param prefix The directory name's prefix.
 * @returns The absolute, symlink-free path.
 * @throws {KernelError} `HOST_IO` when it cannot be created.
 *
 * @example Make and remove a temp dir
 * ```ts
 * import { makeTempDir } from "./temp_dir.ts";
 * const dir = await makeTempDir("astrid-doc-");
 * await Deno.remove(dir);
 * ```
 */
export async function makeTempDir(prefix: string): Promise<string> {
  try {
    const dir = await Deno.makeTempDir({ prefix });
    await Deno.chmod(dir, 0o700);
    return await Deno.realPath(dir);
  } catch (err) {
    throw new KernelError(
      "HOST_IO",
      `Cannot create a temporary directory: ${
        err instanceof Error ? err.message : String(err)
      }`,
      { cause: err },
    );
  }
}
