/**
 * The session capsule through the real kernel (append, read, clear, a
 * restart on the same home, compaction to a budget), and `compact()` itself.
 */
import assert from "node:assert/strict";
import {
  type AgentFixture,
  agentTest,
  startAgentFixture,
} from "../../tests/agent_fixture_test.ts";
import type { Message, SessionMessages } from "@astrid/sdk";
import { compact, estimateTokens } from "./compact.ts";

const user = (text: string): Message => ({
  role: "user",
  content: [{ type: "text", text }],
});
const assistant = (text: string): Message => ({
  role: "assistant",
  content: [{ type: "text", text }],
});
const toolUse = (id: string, text = ""): Message => ({
  role: "assistant",
  content: [
    ...(text ? [{ type: "text" as const, text }] : []),
    { type: "tool_use", id, name: "read_file", input: { path: "a.txt" } },
  ],
});
const toolResult = (id: string, content: string): Message => ({
  role: "user",
  content: [{ type: "tool_result", tool_use_id: id, content, is_error: false }],
});

function session(
  fx: AgentFixture,
  what: "get_messages" | "append" | "clear",
  payload: Record<string, unknown>,
): Promise<SessionMessages> {
  return fx.request<SessionMessages>(`session.v1.request.${what}`, payload);
}

/** Every tool_result answers the tool_use of the message just before it. */
function pairsIntact(messages: readonly Message[]): boolean {
  return messages.every((m, i) =>
    m.content.every((b) =>
      b.type !== "tool_result" ||
      (messages[i - 1]?.content.some((u) =>
        u.type === "tool_use" && u.id === b.tool_use_id
      ) ?? false)
    )
  );
}

function alternates(messages: readonly Message[]): boolean {
  return messages.every((m, i) => i === 0 || messages[i - 1]!.role !== m.role);
}

agentTest("session: append, read, clear — per session id", async () => {
  await using fx = await startAgentFixture({
    prefix: "astrid-session-basic-",
    capsules: ["session"],
  });
  assert.deepEqual(await session(fx, "get_messages", { session_id: "a" }), {
    session_id: "a",
    messages: [],
  });
  const after = await session(fx, "append", {
    session_id: "a",
    messages: [user("hi"), assistant("hello")],
  });
  assert.deepEqual(after.messages, [user("hi"), assistant("hello")]);
  await session(fx, "append", { session_id: "a", messages: [user("again")] });
  await session(fx, "append", { session_id: "b", messages: [user("other")] });
  assert.deepEqual(
    (await session(fx, "get_messages", { session_id: "a" })).messages,
    [user("hi"), assistant("hello"), user("again")],
  );
  assert.deepEqual(await session(fx, "clear", { session_id: "a" }), {
    session_id: "a",
    messages: [],
  });
  assert.deepEqual(
    (await session(fx, "get_messages", { session_id: "a" })).messages,
    [],
  );
  assert.deepEqual(
    (await session(fx, "get_messages", { session_id: "b" })).messages,
    [user("other")],
  );
  await assert.rejects(
    session(fx, "append", { session_id: "a", messages: [{ role: "system" }] }),
    (err: Error) => /role 'user' or 'assistant'/.test(String(err.cause)),
  );
});

agentTest(
  "session: a history larger than one KV value survives a kernel restart on the same home",
  async () => {
    const fx = await startAgentFixture({
      prefix: "astrid-session-restart-",
      capsules: ["session"],
      fileStore: true,
    });
    // ~150 KB of text: stored in several chunks (a KV value holds 64 KiB).
    const big = "x".repeat(50_000);
    const written = [user("start"), assistant(big), user(big), assistant(big)];
    await session(fx, "append", { session_id: "s", messages: written });
    await using again = await fx.restart();
    await fx.close(); // no-op: restart() closed it
    assert.deepEqual(
      (await session(again, "get_messages", { session_id: "s" })).messages,
      written,
    );
  },
);

agentTest(
  "session: appends that grow a history across chunk boundaries keep it whole, across a restart and the cache",
  async () => {
    const fx = await startAgentFixture({
      prefix: "astrid-session-grow-",
      capsules: ["session"],
      fileStore: true,
    });
    // Each append adds ~7 KB: the text crosses the 16 000-character chunk
    // size every few appends, so unchanged chunks are kept and the tail
    // rewritten, over several generations.
    const written: Message[] = [];
    const grow = async (f: AgentFixture, n: number) => {
      for (let i = 0; i < n; i++) {
        const added = [
          user(`q${written.length} ${"y".repeat(3_500)}`),
          assistant(`a${written.length} ${'z"é'.repeat(1_100)}`),
        ];
        written.push(...added);
        const r = await session(f, "append", {
          session_id: "s",
          messages: added,
        });
        assert.deepEqual(r.messages, written);
      }
    };
    await grow(fx, 7);
    await using again = await fx.restart();
    await fx.close(); // no-op: restart() closed it
    assert.deepEqual(
      (await session(again, "get_messages", { session_id: "s" })).messages,
      written,
    );
    await grow(again, 6);
    assert.deepEqual(
      (await session(again, "get_messages", { session_id: "s" })).messages,
      written,
    );
    assert.deepEqual(
      (await session(again, "clear", { session_id: "s" })).messages,
      [],
    );
    assert.deepEqual(
      (await session(again, "get_messages", { session_id: "s" })).messages,
      [],
    );
  },
);

agentTest(
  "session: appends past max_context_tokens compact the stored history",
  async () => {
    await using fx = await startAgentFixture({
      prefix: "astrid-session-compact-",
      capsules: ["session"],
      runtime: { capsuleConfig: { session: { max_context_tokens: "400" } } },
    });
    const filler = "y".repeat(300); // ~75 tokens per message
    await session(fx, "append", {
      session_id: "s",
      messages: [user("The task: fix the bug")],
    });
    for (let i = 0; i < 6; i++) {
      await session(fx, "append", {
        session_id: "s",
        messages: [toolUse(`c${i}`, filler), toolResult(`c${i}`, filler)],
      });
    }
    const kept = (await session(fx, "get_messages", { session_id: "s" }))
      .messages;
    assert.ok(kept.length < 13, `compacted: ${kept.length} messages`);
    assert.ok(estimateTokens(kept) <= 400);
    assert.equal(
      (kept[0]?.content[0] as { text: string }).text,
      "The task: fix the bug",
    );
    assert.match(JSON.stringify(kept[0]), /earlier messages were removed/);
    assert.ok(pairsIntact(kept));
    assert.ok(alternates(kept));
    assert.deepEqual(kept.at(-1), toolResult("c5", filler));
  },
);

agentTest(
  "session: an append naming the tag of the history it holds (known) gets only the appended messages; a stale, foreign or absent tag gets the whole history",
  async () => {
    await using fx = await startAgentFixture({
      prefix: "astrid-session-known-",
      capsules: ["session"],
    });
    const first = await session(fx, "append", {
      session_id: "s",
      messages: [user("hi")],
    });
    assert.deepEqual(first.messages, [user("hi")]);
    assert.equal(first.offset, undefined);
    assert.equal(typeof first.tag, "string");
    const delta = await session(fx, "append", {
      session_id: "s",
      messages: [assistant("hello"), user("more")],
      known: first.tag,
    });
    assert.deepEqual(delta.messages, [assistant("hello"), user("more")]);
    assert.equal(delta.offset, 1);
    assert.notEqual(delta.tag, first.tag, "every write is a new version");
    // A caller holding an older version (another writer appended since)
    // gets the whole history.
    const stale = await session(fx, "append", {
      session_id: "s",
      messages: [assistant("ok")],
      known: first.tag,
    });
    assert.equal(stale.offset, undefined);
    assert.deepEqual(stale.messages, [
      user("hi"),
      assistant("hello"),
      user("more"),
      assistant("ok"),
    ]);
    for (const known of [undefined, "", "made-up", 5]) {
      const r = await session(fx, "append", {
        session_id: "s",
        messages: [user("x")],
        ...(known === undefined ? {} : { known }),
      });
      assert.equal(r.offset, undefined);
    }
    const all = await session(fx, "get_messages", { session_id: "s" });
    assert.equal(all.messages.length, 8);
    // get_messages names the version too; a clear makes every tag stale.
    const next = await session(fx, "append", {
      session_id: "s",
      messages: [assistant("y")],
      known: all.tag,
    });
    assert.equal(next.offset, 8);
    await session(fx, "clear", { session_id: "s" });
    const after = await session(fx, "append", {
      session_id: "s",
      messages: [user("fresh")],
      known: next.tag,
    });
    assert.equal(after.offset, undefined);
    assert.deepEqual(after.messages, [user("fresh")]);
  },
);

agentTest(
  "session: an append that compacts answers the whole compacted history even when the caller's tag is current",
  async () => {
    await using fx = await startAgentFixture({
      prefix: "astrid-session-known-compact-",
      capsules: ["session"],
      runtime: { capsuleConfig: { session: { max_context_tokens: "400" } } },
    });
    const filler = "y".repeat(300);
    let last = await session(fx, "append", {
      session_id: "s",
      messages: [user("The task")],
    });
    let held = last.messages;
    let compacted = false;
    for (let i = 0; i < 6; i++) {
      last = await session(fx, "append", {
        session_id: "s",
        messages: [toolUse(`c${i}`, filler), toolResult(`c${i}`, filler)],
        known: last.tag,
      });
      if (last.offset === undefined) compacted = true;
      else assert.equal(last.offset, held.length);
      held = last.offset === undefined
        ? last.messages
        : [...held, ...last.messages];
      assert.deepEqual(
        held,
        (await session(fx, "get_messages", { session_id: "s" })).messages,
      );
    }
    assert.ok(compacted, "the budget made an append compact");
  },
);

agentTest(
  "session: a history stored in the former 16 000-character chunks (head without size) reads whole, and the next append rewrites it in the current size",
  async () => {
    const fx = await startAgentFixture({
      prefix: "astrid-session-legacy-",
      capsules: ["session"],
      fileStore: true,
    });
    // The capsule's KV namespace in the kernel's store (kernel/abi/capsule_kv.ts).
    const store = fx.tk.kernel.store;
    const ns = `${fx.tk.kernel.principal}:capsule:session`;
    const kv = {
      set: (k: string, v: string | Record<string, unknown>) =>
        store.set([ns, k], v as Parameters<typeof store.set>[1]),
      get: async (k: string) => (await store.get([ns, k]))?.value ?? null,
    };
    const legacy = [
      user("a".repeat(20_000)),
      assistant("b".repeat(15_000)),
      user("c"),
    ];
    const text = JSON.stringify(legacy);
    await kv.set("h/s/1/0", text.slice(0, 16_000));
    await kv.set("h/s/1/1", text.slice(16_000, 32_000));
    await kv.set("h/s", {
      gen: 1,
      chunks: 2,
      tag: "old",
      tail: text.slice(32_000),
    });
    assert.deepEqual(
      (await session(fx, "get_messages", { session_id: "s" })).messages,
      legacy,
    );
    const grown = await session(fx, "append", {
      session_id: "s",
      messages: [assistant("d")],
      known: "old",
    });
    assert.equal(grown.offset, 3);
    assert.deepEqual(grown.messages, [assistant("d")]);
    const head = await kv.get("h/s") as { size?: number; gen: number };
    assert.equal(head.size, 8_000);
    assert.equal(await kv.get("h/s/1/0"), null, "the old chunks are gone");
    await using again = await fx.restart();
    await fx.close(); // no-op: restart() closed it
    assert.deepEqual(
      (await session(again, "get_messages", { session_id: "s" })).messages,
      [...legacy, assistant("d")],
    );
  },
);

Deno.test({
  name: "compact(): under budget nothing changes",
  permissions: "none",
}, () => {
  const h = [user("a"), assistant("b"), user("c")];
  assert.deepEqual(compact(h, 1000), { messages: h, removed: 0 });
});

Deno.test({
  name:
    "compact(): keeps the first user message, drops the oldest others, notes the dropped prompts",
  permissions: "none",
}, () => {
  const long = "z".repeat(400);
  const h = [
    user("first task"),
    assistant(long),
    user("second prompt"),
    assistant(long),
    user("third prompt"),
    assistant("short"),
  ];
  const { messages, removed } = compact(h, 200);
  assert.ok(removed > 0);
  assert.deepEqual(messages[0]?.content[0], h[0]!.content[0]);
  assert.ok(alternates(messages));
  assert.ok(estimateTokens(messages) <= 200);
  assert.deepEqual(messages.at(-1), assistant("short"));
  assert.match(JSON.stringify(messages), /second prompt/);
});

Deno.test({
  name: "compact(): never separates a tool_use from its tool_result",
  permissions: "none",
}, () => {
  const big = "w".repeat(800);
  const h = [
    user("task"),
    toolUse("c1"),
    toolResult("c1", big),
    toolUse("c2"),
    toolResult("c2", big),
    toolUse("c3"),
    toolResult("c3", "small"),
  ];
  for (const budget of [50, 120, 300, 500, 2000]) {
    const { messages } = compact(h, budget);
    assert.ok(pairsIntact(messages), `budget ${budget}`);
    assert.ok(alternates(messages), `budget ${budget}`);
    assert.equal(messages[0]?.content[0], h[0]!.content[0]);
    assert.deepEqual(messages.at(-1), h.at(-1));
  }
  // Even when the newest exchange alone is over budget it is kept whole.
  const { messages } = compact(h, 10);
  assert.deepEqual(messages.slice(-2), h.slice(-2));
});
