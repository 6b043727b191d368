// deno-lint-ignore-file no-control-regex -- the tests look for escape sequences
import assert from "node:assert/strict";
import { MAX_ENTRY_CHARS, Transcript } from "./transcript.ts";

Deno.test("Transcript: streamed text joins one entry until a tool call; results, approvals and the end follow", () => {
  const t = new Transcript();
  t.add("user", "write notes");
  t.apply({ type: "turn_start", turn_id: "t1", session: "s1" });
  t.apply({ type: "text_delta", text: "Hel" });
  t.apply({ type: "text_delta", text: "lo" });
  t.apply({
    type: "tool_call",
    id: "c1",
    name: "write_file",
    arguments: { path: "a.txt" },
  });
  t.apply({
    type: "approval_required",
    request_id: "r1",
    action: "fs_write",
    resource: "a.txt",
    risk: "medium",
    options: ["allow_once", "deny"],
  });
  t.apply({
    type: "approval_decision",
    request_id: "r1",
    decision: "allow_once",
  });
  t.apply({
    type: "tool_result",
    id: "c1",
    is_error: false,
    content: "wrote a.txt",
  });
  t.apply({ type: "text_delta", text: "Done." });
  t.apply({
    type: "final",
    text: "HelloDone.",
    usage: { input_tokens: 3, output_tokens: 4 },
  });
  assert.deepEqual(t.entries.map((e) => [e.style, e.text]), [
    ["user", "write notes"],
    ["assistant", "Hello"],
    ["tool", '→ write_file {"path":"a.txt"}'],
    ["approval", "? approval needed: fs_write a.txt (risk medium)"],
    ["approval", "  answered: Allow once"],
    ["ok", "← write_file: wrote a.txt"],
    ["assistant", "Done."],
    ["notice", "✔ done (3 in / 4 out tokens)"],
  ]);
});

Deno.test("Transcript: a final answer that was not streamed is shown; a cancelled turn says so; errors carry their code", () => {
  const t = new Transcript();
  t.apply({ type: "turn_start", turn_id: "t1", session: "s1" });
  t.apply({
    type: "final",
    text: "whole answer",
    usage: { input_tokens: 1, output_tokens: 1 },
  });
  t.apply({ type: "turn_start", turn_id: "t2", session: "s1" });
  t.apply({ type: "error", code: "ABORTED", message: "x" });
  t.apply({ type: "error", code: "PROVIDER_FAILED", message: "503" });
  assert.deepEqual(t.entries.map((e) => e.text), [
    "whole answer",
    "✔ done (1 in / 1 out tokens)",
    "✖ turn cancelled",
    "✖ turn failed: [PROVIDER_FAILED] 503",
  ]);
});

Deno.test("Transcript: escape sequences in model text or tool output are removed before they are kept", () => {
  const t = new Transcript();
  t.apply({ type: "text_delta", text: "a\x1b[2J\x1b]0;pwned\x07b" });
  t.apply({ type: "tool_call", id: "c", name: "x\x1b[31m", arguments: {} });
  t.apply({
    type: "tool_result",
    id: "c",
    is_error: true,
    content: "\x1b[1Gfail",
  });
  for (const e of t.entries) assert.doesNotMatch(e.text, /\x1b/);
  assert.equal(t.entries[0]!.text, "ab");
});

Deno.test("Transcript: keeps at most its limit of entries, and clear() empties it", () => {
  const t = new Transcript(3);
  for (let i = 0; i < 5; i++) t.add("notice", `n${i}`);
  assert.deepEqual(t.entries.map((e) => e.text), ["n2", "n3", "n4"]);
  t.clear();
  assert.equal(t.entries.length, 0);
});

Deno.test("Transcript: an entry keeps at most MAX_ENTRY_CHARS, streamed or added", () => {
  const t = new Transcript();
  const chunk = "x".repeat(50_000);
  for (let i = 0; i < 10; i++) t.apply({ type: "text_delta", text: chunk });
  assert.ok(t.entries[0]!.text.length <= MAX_ENTRY_CHARS + 20);
  assert.match(t.entries[0]!.text, /… \(cut\)$/);
  t.add("notice", "y".repeat(MAX_ENTRY_CHARS * 2));
  assert.ok(t.entries[1]!.text.length <= MAX_ENTRY_CHARS + 20);
});
