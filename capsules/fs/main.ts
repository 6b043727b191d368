/**
 * The `fs` tool capsule: `read_file`, `write_file`, `edit_file`,
 * `list_directory`, `glob` and `grep` over the workspace. Every file access is
 * a gated host call (`[capabilities]` grant only `cwd://`, the workspace);
 * writes land in the session's copy-on-write overlay. A refused or failed
 * call becomes an `is_error` result whose text says what failed, why, and
 * what to do instead.
 *
 * @module
 */
import { defineCapsule } from "@astrid/sdk";
import { FILE_TOOLS } from "./_files.ts";
import { SEARCH_TOOLS } from "./_search.ts";

export default defineCapsule({
  tools: { ...FILE_TOOLS, ...SEARCH_TOOLS },
});
