// deno-lint-ignore-file no-control-regex -- the tests look for escape sequences
import assert from "node:assert/strict";
import {
  type ChatView,
  layout,
  plainRows,
  toAnsi,
  transcriptRows,
} from "./renderer.ts";
import { CHAT_COMMANDS, paletteMatches } from "./palette.ts";
import { Transcript } from "./transcript.ts";
import { displayWidth } from "./text.ts";

function view(over: Partial<ChatView> = {}): ChatView {
  return {
    header: "astrid chat · session 12345678 · ~/proj",
    entries: [],
    scroll: 0,
    status: "idle",
    palette: [],
    input: { text: "", cursorColumn: 0 },
    ...over,
  };
}

Deno.test("layout: an 80x24 frame has 24 rows of at most 80 columns: header, transcript, status, input", () => {
  const t = new Transcript();
  t.add("user", "hello");
  t.apply({ type: "text_delta", text: "Hi there, " + "word ".repeat(40) });
  const frame = layout(
    view({ entries: t.entries, input: { text: "next", cursorColumn: 4 } }),
    80,
    24,
  );
  const rows = plainRows(frame);
  assert.equal(rows.length, 24);
  for (const r of rows) assert.ok(displayWidth(r) <= 80, r);
  assert.match(rows[0]!, /astrid chat · session 12345678/);
  assert.equal(rows[1], "› hello");
  assert.match(rows[3]!, /^Hi there, word/);
  assert.match(rows[22]!, /idle/);
  assert.equal(rows[23], "› next");
  assert.deepEqual(frame.cursor, { row: 23, column: 6 });
});

Deno.test("layout: the newest transcript rows stay visible; scrolling shows older ones", () => {
  const t = new Transcript();
  for (let i = 0; i < 60; i++) t.add("assistant", `line ${i}`);
  const bottom = plainRows(layout(view({ entries: t.entries }), 80, 24));
  assert.equal(bottom[21], "line 59");
  assert.ok(!bottom.includes("line 0"));
  const scrolled = plainRows(
    layout(view({ entries: t.entries, scroll: 10 }), 80, 24),
  );
  assert.equal(scrolled[21], "line 49");
  assert.match(scrolled[0]!, /scrolled ↑10/);
  const top = plainRows(
    layout(view({ entries: t.entries, scroll: 1000 }), 80, 24),
  );
  assert.equal(top[1], "line 0");
});

Deno.test("layout: the approval prompt shows action, resource, risk and the five answers with their keys", () => {
  const rows = plainRows(layout(
    view({
      approval: {
        action: "fs_write",
        resource: "src/main.ts",
        risk: "high",
        options: [
          "allow_once",
          "allow_session",
          "allow_workspace",
          "allow_always",
          "deny",
        ],
        selected: 0,
        queued: 1,
      },
    }),
    80,
    24,
  ));
  const text = rows.join("\n");
  assert.match(text, /Approval needed \(\+1 more\): fs_write · risk high/);
  assert.match(text, /src\/main\.ts/);
  assert.match(
    text,
    /▸\[y\] Allow once +\[s\] Session +\[w\] Workspace +\[a\] Always +\[n\] Deny/,
  );
});

Deno.test("layout: the palette lists the matching commands above the status line", () => {
  const rows = plainRows(layout(
    view({
      palette: paletteMatches("/"),
      input: { text: "/", cursorColumn: 1 },
    }),
    80,
    24,
  ));
  const at = rows.findIndex((r) => r.startsWith(" /help"));
  assert.ok(at > 0);
  assert.equal(
    rows.filter((r) => /^ \/\w/.test(r)).length,
    CHAT_COMMANDS.length,
  );
  assert.match(rows[at]!, /list the commands/);
});

Deno.test("layout: the status line shows the budget spent and its limit, and tokens", () => {
  const rows = plainRows(layout(
    view({
      status: "thinking…",
      budget: { spent_usd: 0.0123, limit_usd: 5 },
      tokens: { input: 12, output: 34 },
    }),
    80,
    24,
  ));
  assert.match(
    rows[22]!,
    /thinking….*12↑ 34↓ tok · budget \$0\.0123 \/ \$5\.0000/,
  );
});

Deno.test("layout: a tiny terminal still gets exactly its rows, the input last", () => {
  const frame = layout(view({ palette: paletteMatches("/") }), 20, 5);
  const rows = plainRows(frame);
  assert.equal(rows.length, 5);
  assert.equal(rows[4], "›");
  for (const r of rows) assert.ok(displayWidth(r) <= 20);
});

Deno.test("toAnsi: positions every row, clears it, and puts the cursor on the input", () => {
  const frame = layout(
    view({ input: { text: "ab", cursorColumn: 2 } }),
    80,
    24,
  );
  const ansi = toAnsi(frame, false);
  for (let i = 1; i <= 24; i++) assert.ok(ansi.includes(`\x1b[${i};1H\x1b[2K`));
  assert.ok(ansi.endsWith("\x1b[24;5H\x1b[?25h"));
  assert.doesNotMatch(ansi, /\x1b\[3\dm/, "no colors without color");
  assert.match(toAnsi(frame, true), /\x1b\[7m/);
});

Deno.test("transcriptRows: wraps only the newest entries it needs, and says whether it has them all", () => {
  const t = new Transcript();
  for (let i = 0; i < 10_000; i++) t.add("assistant", `entry ${i}`);
  const tail = transcriptRows(t.entries, 80, 3);
  assert.equal(tail.complete, false);
  assert.deepEqual(tail.rows.map((r) => r[0]?.text), [
    "entry 9997",
    "entry 9998",
    "entry 9999",
  ]);
  const all = transcriptRows(t.entries.slice(0, 3), 80);
  assert.equal(all.complete, true);
  assert.equal(all.rows.length, 3);
  const frame = layout(view({ entries: t.entries, scroll: 5 }), 80, 24);
  assert.equal(frame.scroll, 5);
  assert.equal(plainRows(frame)[21], "entry 9994");
  assert.equal(
    layout(view({ entries: t.entries.slice(0, 3), scroll: 50 }), 80, 24).scroll,
    0,
  );
});
