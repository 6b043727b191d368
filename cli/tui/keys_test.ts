import assert from "node:assert/strict";
import { decodeKeys, KeyDecoder } from "./keys.ts";

Deno.test("decodeKeys: text, Enter, Backspace, Tab and Ctrl letters", () => {
  assert.deepEqual(decodeKeys("hi\r\x7f\t\x03\x04"), [
    { kind: "text", text: "hi" },
    { kind: "key", name: "enter" },
    { kind: "key", name: "backspace" },
    { kind: "key", name: "tab" },
    { kind: "ctrl", letter: "c" },
    { kind: "ctrl", letter: "d" },
  ]);
  assert.deepEqual(decodeKeys("\r\n"), [{ kind: "key", name: "enter" }]);
});

Deno.test("decodeKeys: cursor keys in CSI and SS3 form, Home/End, Delete, Page keys, a lone Esc", () => {
  const names = decodeKeys(
    "\x1b[A\x1b[B\x1b[C\x1b[D\x1bOA\x1b[H\x1b[F\x1b[1~\x1b[4~\x1b[3~\x1b[5~\x1b[6~\x1b[1;5D\x1b[Z\x1b",
  ).map((k) => k.kind === "key" ? k.name : k.kind);
  assert.deepEqual(names, [
    "up",
    "down",
    "right",
    "left",
    "up",
    "home",
    "end",
    "home",
    "end",
    "delete",
    "pageup",
    "pagedown",
    "word-left",
    "shift-tab",
    "escape",
  ]);
});

Deno.test("decodeKeys: an unknown escape sequence is one unknown key, never text", () => {
  assert.deepEqual(decodeKeys("\x1b[200~x"), [
    { kind: "key", name: "unknown" },
    { kind: "text", text: "x" },
  ]);
  assert.deepEqual(decodeKeys("a\x85b"), [{ kind: "text", text: "ab" }]);
});

Deno.test("KeyDecoder: a bracketed paste is one text key without line breaks or controls, even split across reads", () => {
  const d = new KeyDecoder();
  assert.deepEqual(d.push("a\x1b[200~line one\r\nline"), [{
    kind: "text",
    text: "a",
  }]);
  assert.deepEqual(d.push(" two\x1b[2J\x03\x1b[20"), []);
  assert.deepEqual(d.push("1~\r"), [
    { kind: "text", text: "line one line two ", paste: true },
    { kind: "key", name: "enter" },
  ]);
  assert.deepEqual(d.push("\x1b[D"), [{ kind: "key", name: "left" }]);
});
