import assert from "node:assert/strict";
import {
  CHAT_COMMANDS,
  complete,
  helpLines,
  paletteMatches,
  parseCommand,
} from "./palette.ts";

Deno.test("palette: the required commands are there", () => {
  const names = CHAT_COMMANDS.map((c) => c.name);
  for (
    const n of [
      "help",
      "new",
      "sessions",
      "diff",
      "commit",
      "approvals",
      "clear",
      "quit",
    ]
  ) assert.ok(names.includes(n), n);
});

Deno.test("paletteMatches: a bare / shows every command; typing narrows; a prompt or a line with arguments shows none", () => {
  assert.equal(paletteMatches("/").length, CHAT_COMMANDS.length);
  assert.deepEqual(paletteMatches("/c").map((c) => c.name), [
    "commit",
    "clear",
  ]);
  assert.deepEqual(paletteMatches("/ex").map((c) => c.name), ["quit"]);
  assert.deepEqual(paletteMatches("hello"), []);
  assert.deepEqual(paletteMatches("/commit a.txt"), []);
});

Deno.test("complete: Tab completes a unique command, or to the common prefix", () => {
  assert.equal(complete("/he"), "/help ");
  assert.equal(complete("/s"), "/sessions ");
  assert.equal(complete("/c"), "/c");
  assert.equal(complete("/co"), "/commit ");
  assert.equal(complete("/zz"), "/zz");
});

Deno.test("parseCommand: names, aliases, arguments, unknown commands, and // as a prompt", () => {
  assert.deepEqual(parseCommand("/commit a.txt b.txt"), {
    name: "commit",
    known: true,
    args: ["a.txt", "b.txt"],
  });
  assert.equal(parseCommand("/q")?.name, "quit");
  assert.equal(parseCommand("/?")?.name, "help");
  assert.deepEqual(parseCommand("/nope"), {
    name: "nope",
    known: false,
    args: [],
  });
  assert.equal(parseCommand("//etc/passwd is a path"), null);
  assert.equal(parseCommand("what is /tmp"), null);
});

Deno.test("helpLines: every command with its summary, and the keys", () => {
  const text = helpLines().join("\n");
  for (const c of CHAT_COMMANDS) {
    assert.match(text, new RegExp(`/${c.name}\\b.*${c.summary.slice(0, 12)}`));
  }
  assert.match(text, /Ctrl-C/);
});
