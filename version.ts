/** The version of Astrid for Deno (kernel, CLI and daemon). */
export const VERSION: string = "0.1.0";
