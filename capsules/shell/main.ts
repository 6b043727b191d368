/**
 * The `shell` tool capsule: the `bash` tool runs `bash -c <command>` through
 * the gated `process_spawn` host call. The kernel runs it in bubblewrap over
 * the session's copy-on-write view of the workspace (its writes land in the
 * overlay, each one gated) or refuses with `SANDBOX_UNAVAILABLE`; the
 * security policy refuses blocked commands (`sudo`, …) before anything runs.
 * The model gets the exit code, stdout and stderr in one text, cut to a
 * bounded size.
 *
 * @module
 */
import { defineCapsule } from "@astrid/sdk";
import { bash } from "./_bash.ts";

export default defineCapsule({ tools: { bash } });
