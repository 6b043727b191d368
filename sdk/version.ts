/**
 * The version of the SDK and of the wire vocabulary it describes.
 *
 * @example Print the version
 * ```ts
 * import { SDK_VERSION } from "./version.ts";
 * console.log(SDK_VERSION);
 * ```
 */
export const SDK_VERSION: string = "0.1.0";
