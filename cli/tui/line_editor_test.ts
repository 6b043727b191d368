import assert from "node:assert/strict";
import { decodeKeys } from "./keys.ts";
import { LineEditor } from "./line_editor.ts";

function type(editor: LineEditor, input: string) {
  return decodeKeys(input).map((k) => editor.handle(k));
}

Deno.test("LineEditor: inserts at the cursor, which the arrow keys, Home and End move", () => {
  const e = new LineEditor();
  type(e, "helo\x1b[D");
  type(e, "l");
  assert.equal(e.text, "hello");
  assert.equal(e.cursor, 4);
  type(e, "\x1b[H>\x1b[F!");
  assert.equal(e.text, ">hello!");
  type(e, "\x01\x1b[3~\x05\x7f");
  assert.equal(e.text, "hello");
});

Deno.test("LineEditor: Ctrl-U, Ctrl-K and Ctrl-W delete before the cursor, after it, and the word before it", () => {
  const e = new LineEditor();
  type(e, "one two three");
  type(e, "\x17");
  assert.equal(e.text, "one two ");
  type(e, "\x1b[D\x1b[D\x1b[D\x0b");
  assert.equal(e.text, "one t");
  type(e, "\x15");
  assert.equal(e.text, "");
});

Deno.test("LineEditor: Enter submits the line, clears it and remembers it; Up and Down walk the history and keep the draft", () => {
  const e = new LineEditor();
  assert.deepEqual(type(e, "first\r").at(-1), {
    kind: "submit",
    line: "first",
  });
  assert.equal(e.text, "");
  type(e, "second\r");
  type(e, "second\r");
  assert.deepEqual(e.history, ["first", "second"]);
  type(e, "draft");
  type(e, "\x1b[A");
  assert.equal(e.text, "second");
  type(e, "\x1b[A\x1b[A");
  assert.equal(e.text, "first");
  type(e, "\x1b[B\x1b[B");
  assert.equal(e.text, "draft");
});

Deno.test("LineEditor: the view scrolls so the cursor stays inside a narrow field", () => {
  const e = new LineEditor();
  type(e, "abcdefghijklmnopqrstuvwxyz");
  const end = e.view(10);
  assert.ok(end.text.endsWith("z"));
  assert.equal(end.cursorColumn, end.text.length);
  assert.ok(end.cursorColumn <= 9);
  type(e, "\x1b[H");
  const start = e.view(10);
  assert.equal(start.text, "abcdefghij");
  assert.equal(start.cursorColumn, 0);
});
