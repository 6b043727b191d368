/**
 * `astrid init`, `astrid agent` and `astrid secret` as a user runs them: the
 * real CLI in a subprocess with its own `HOME` and `ASTRID_HOME`.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { runAstrid } from "./cli_fixture_test.ts";
import type { TurnEvent } from "../sdk/turn.ts";

const PERMS = { read: true, write: true, env: true, run: true } as const;

async function withRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "astrid-agent-cli-" }),
  );
  try {
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

function envOf(root: string, extra: Record<string, string> = {}) {
  return { HOME: root, ASTRID_HOME: path.join(root, "home"), ...extra };
}

Deno.test({
  name:
    "astrid agent without an installed orchestrator says to run 'astrid init' (NOT_FOUND)",
  permissions: PERMS,
  async fn() {
    await withRoot(async (root) => {
      const r = await runAstrid(["agent", "hello", "-w", root], {
        env: envOf(root),
      });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /error\[NOT_FOUND\].*astrid init/);
    });
  },
});

Deno.test({
  name:
    "astrid init, then astrid agent --json runs a replayed turn: NDJSON turn events, the write in the overlay, not on disk",
  permissions: PERMS,
  async fn() {
    await withRoot(async (root) => {
      const ws = path.join(root, "ws");
      await Deno.mkdir(ws);
      await Deno.writeTextFile(path.join(ws, "a.txt"), "alpha\n");
      const transcript = path.join(root, "t.json");
      await Deno.writeTextFile(
        transcript,
        JSON.stringify({
          turns: [
            {
              text: "Reading.",
              tool_calls: [{ name: "read_file", arguments: { path: "a.txt" } }],
            },
            {
              text: "Writing.",
              tool_calls: [{
                name: "write_file",
                arguments: { path: "b.txt", content: "beta\n" },
              }],
            },
            { text: "Done." },
          ],
        }),
      );
      const init = await runAstrid(["init"], { env: envOf(root) });
      assert.equal(init.code, 0, init.stdout + init.stderr);
      const r = await runAstrid(
        ["agent", "Copy a.txt", "-w", ws, "--json"],
        {
          env: envOf(root, {
            ASTRID_PROVIDER: "replay",
            ASTRID_REPLAY_FILE: transcript,
          }),
        },
      );
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const events = r.stdout.trim().split("\n").map((l) =>
        JSON.parse(l) as TurnEvent
      );
      assert.deepEqual(
        events.filter((e) => e.type === "tool_call").map((e) =>
          e.type === "tool_call" && e.name
        ),
        ["read_file", "write_file"],
      );
      const last = events.at(-1);
      assert.equal(last?.type === "final" && last.text, "Done.");
      assert.equal(
        await Deno.stat(path.join(ws, "b.txt")).catch(() => null),
        null,
        "headless and not a terminal: the write waits in the overlay",
      );
    });
  },
});

Deno.test({
  name:
    "astrid secret set stores a value from stdin without printing it; exists reports it; a value on the command line is refused",
  permissions: PERMS,
  async fn() {
    await withRoot(async (root) => {
      const set = await runAstrid(
        ["secret", "set", "provider-openai", "OPENAI_API_KEY"],
        { env: envOf(root), stdin: "sk-test-123\n" },
      );
      assert.equal(set.code, 0, set.stderr);
      assert.doesNotMatch(set.stdout + set.stderr, /sk-test-123/);
      const has = await runAstrid(
        ["secret", "exists", "provider-openai", "OPENAI_API_KEY"],
        { env: envOf(root) },
      );
      assert.equal(has.stdout.trim(), "true");
      const none = await runAstrid(
        ["secret", "exists", "provider-openai", "OTHER"],
        { env: envOf(root) },
      );
      assert.equal(none.stdout.trim(), "false");
      const bad = await runAstrid(
        ["secret", "set", "provider-openai", "OPENAI_API_KEY", "sk-inline"],
        { env: envOf(root) },
      );
      assert.equal(bad.code, 2);
    });
  },
});
