/**
 * A long-lived daemon does not grow with every session it served: the hub
 * keeps only the most recently used idle runtimes booted and closes the
 * others; an unloaded session boots again on its next prompt, history kept.
 */
import assert from "node:assert/strict";
import type { PromptStreamEvent } from "../kernel/api/contract.ts";
import { createSessionHub } from "../kernel/turn/session_hub.ts";
import { MemoryEnv } from "../kernel/testing/memory_env.ts";
import { installAgentCapsules } from "./agent_fixture_test.ts";
import { AGENT, apiTest } from "./api_fixture_test.ts";
import { startTestKernel } from "./test_kernel_test.ts";

apiTest(
  "the session hub keeps only the most recently used idle runtimes booted; an unloaded session boots again on its next prompt with its history",
  async () => {
    // The user's config sets the limit (`[sessions] keep_booted`).
    const tk = await startTestKernel({
      prefix: "hub-unload-",
      fileStore: true,
      config: "[sessions]\nkeep_booted = 2\n",
    });
    try {
      await installAgentCapsules(tk.kernel, AGENT);
      const replay = `${tk.root}/replay.json`;
      const turns = Array.from(
        { length: 8 },
        (_, i) => ({ text: `answer ${i}` }),
      );
      await Deno.writeTextFile(replay, JSON.stringify({ turns }));
      const hub = await createSessionHub(tk.kernel, {
        roots: [tk.root],
        env: new MemoryEnv({
          ASTRID_PROVIDER: "replay",
          ASTRID_REPLAY_FILE: replay,
        }),
        mcpAvailable: false,
      });
      const turn = async (id: string, text: string) => {
        const events: PromptStreamEvent[] = [];
        for await (
          const e of await hub.prompt(
            id,
            { text },
            new AbortController().signal,
          )
        ) events.push(e);
        assert.equal(events.at(-1)?.type, "final", JSON.stringify(events));
      };
      try {
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) {
          const s = await hub.create({ workspace: tk.workspace });
          ids.push(s.id);
          await turn(s.id, `hello ${i}`);
          assert.ok((await hub.counts()).live <= 2, `after session ${i}`);
        }
        assert.equal((await hub.counts()).live, 2);
        assert.equal((await hub.counts()).known, 5);
        // The first session was unloaded; it boots again, its history kept.
        const before = (await hub.messages(ids[0]!)).length;
        assert.ok(before > 0);
        await turn(ids[0]!, "hello again");
        assert.ok((await hub.messages(ids[0]!)).length > before);
        assert.equal((await hub.counts()).live, 2);
      } finally {
        await hub.close();
      }
    } finally {
      await tk.kernel.close();
      await Deno.remove(tk.root, { recursive: true });
    }
  },
);
