import assert from "node:assert/strict";
import { parseEventLines, snapshotTui } from "./snapshot.ts";

Deno.test("snapshotTui: a mid-turn frame shows the prompt, the streamed text, the tool call, the approval prompt and the budget", () => {
  const frame = snapshotTui([
    { type: "turn_start", turn_id: "t", session: "s" },
    { type: "text_delta", text: "Let me write it." },
    { type: "budget", spent_usd: 0.5, limit_usd: 2 },
    {
      type: "tool_call",
      id: "c",
      name: "write_file",
      arguments: { path: "a.md" },
    },
    {
      type: "approval_required",
      request_id: "r",
      action: "fs_write",
      resource: "a.md",
      risk: "medium",
      options: [
        "allow_once",
        "allow_session",
        "allow_workspace",
        "allow_always",
        "deny",
      ],
    },
  ], { prompt: "write a.md" });
  const rows = frame.split("\n");
  assert.equal(rows.length, 24);
  assert.equal(rows[0], " astrid chat · snapshot");
  assert.equal(rows[1], "› write a.md");
  assert.match(frame, /Let me write it\./);
  assert.match(frame, /→ write_file \{"path":"a\.md"\}/);
  assert.match(frame, /Approval needed: fs_write · risk medium/);
  assert.match(
    frame,
    /waiting for your approval .*budget \$0\.5000 \/ \$2\.0000/,
  );
});

Deno.test("snapshotTui: after the final event the approval is gone and the state is idle", () => {
  const frame = snapshotTui([
    {
      type: "approval_required",
      request_id: "r",
      action: "fs_write",
      resource: "a.md",
      risk: "low",
      options: ["allow_once", "deny"],
    },
    { type: "final", text: "ok", usage: { input_tokens: 1, output_tokens: 2 } },
  ]);
  assert.doesNotMatch(frame, /Approval needed/);
  assert.match(frame, / idle .*1↑ 2↓ tok/);
});

Deno.test("parseEventLines: JSON lines of turn events; a bad line is named", () => {
  assert.equal(
    parseEventLines(
      '{"type":"text_delta","text":"a"}\n\n{"type":"final","text":"a","usage":{"input_tokens":0,"output_tokens":0}}\n',
    ).length,
    2,
  );
  assert.throws(
    () => parseEventLines('{"type":"text_delta","text":"a"}\nnope'),
    /line 2 is not JSON/,
  );
  assert.throws(
    () => parseEventLines('{"type":"rm -rf"}'),
    /line 1 is not a turn event/,
  );
});
