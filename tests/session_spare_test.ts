/**
 * The session booted ahead: a hub keeps one runtime booted for its
 * workspace; the next new session there adopts it (same id, its capsules
 * already up), and another spare is booted for the session after.
 */
import assert from "node:assert/strict";
import type { PromptStreamEvent } from "../kernel/api/contract.ts";
import { createSessionHub } from "../kernel/turn/session_hub.ts";
import { MemoryEnv } from "../kernel/testing/memory_env.ts";
import { installAgentCapsules } from "./agent_fixture_test.ts";
import { apiTest, PROBE } from "./api_fixture_test.ts";
import { waitUntil } from "./daemon_fixture_test.ts";
import { startTestKernel } from "./test_kernel_test.ts";

apiTest(
  "a new session in the spare's workspace adopts the session booted ahead and a next spare is booted; a session elsewhere moves the spare there",
  async () => {
    const tk = await startTestKernel({ prefix: "hub-spare-", fileStore: true });
    try {
      await installAgentCapsules(tk.kernel, [PROBE]);
      const other = `${tk.root}/other`;
      await Deno.mkdir(other);
      const hub = await createSessionHub(tk.kernel, {
        roots: [tk.root],
        env: new MemoryEnv({}),
        mcpAvailable: false,
        spare: tk.workspace,
      });
      try {
        const ready = async (workspace: string) => {
          let spare: { id: string; workspace: string } | undefined;
          await waitUntil(async () => {
            spare = await hub.spareReady();
            return spare?.workspace === workspace;
          }, `a spare for ${workspace}`);
          return spare!;
        };
        const first = await ready(tk.workspace);
        // Its workspace: the spare becomes the session.
        const s = await hub.create({ workspace: tk.workspace });
        assert.equal(s.id, first.id);
        const events: PromptStreamEvent[] = [];
        for await (
          const e of await hub.prompt(
            s.id,
            { text: "hello" },
            new AbortController().signal,
          )
        ) events.push(e);
        assert.equal(events.at(-1)?.type, "final");
        const next = await ready(tk.workspace);
        assert.notEqual(next.id, s.id);
        // Elsewhere: a session of its own; the spare follows the last
        // workspace (the old one is closed, not leaked).
        const elsewhere = await hub.create({ workspace: other });
        assert.notEqual(elsewhere.id, next.id);
        const moved = await ready(other);
        assert.notEqual(moved.id, next.id);
        // Live: only s (spares and the idle, never booted `elsewhere` do not count).
        assert.equal((await hub.counts()).live, 1);
        // The spares are no sessions anyone sees.
        assert.deepEqual(
          (await hub.list()).map((x) => x.id).sort(),
          [elsewhere.id, s.id].sort(),
        );
      } finally {
        await hub.close();
      }
    } finally {
      await tk.kernel.close();
      await Deno.remove(tk.root, { recursive: true });
    }
  },
);
