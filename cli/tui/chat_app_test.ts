/**
 * The chat core against the scripted daemon API (the real Router, in
 * process) on a scripted terminal: keys in, frames out.
 */
import assert from "node:assert/strict";
import { ApiClient } from "../../mod.ts";
import { scriptedApi } from "../../tests/chat_api_fixture_test.ts";
import { openSession, runChat } from "./chat_app.ts";
import { type Frame, plainRows } from "./renderer.ts";
import type { ChatTerminal } from "./terminal.ts";

class ScriptedTerminal implements ChatTerminal {
  readonly frames: Frame[] = [];
  readonly #queue: string[] = [];
  #wake: (() => void) | undefined;
  #ended = false;
  columns = 80;
  rows = 24;

  size() {
    return { columns: this.columns, rows: this.rows };
  }
  write(_text: string): void {}
  async *input(): AsyncIterable<string> {
    while (true) {
      while (this.#queue.length > 0) yield this.#queue.shift()!;
      if (this.#ended) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }
  onResize(): () => void {
    return () => {};
  }
  type(keys: string): void {
    this.#queue.push(keys);
    this.#wake?.();
  }
  end(): void {
    this.#ended = true;
    this.#wake?.();
  }
  screen(): string {
    const last = this.frames.at(-1);
    return last ? plainRows(last).join("\n") : "";
  }
  async waitFor(pattern: RegExp, timeoutMs = 5000): Promise<string> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (pattern.test(this.screen())) return this.screen();
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`screen never matched ${pattern}:\n${this.screen()}`);
  }
}

async function start(
  options: { guardMs?: number; now?: () => number; graceMs?: number } = {},
) {
  const api = scriptedApi();
  const client = new ApiClient({ handler: api.handler }, api.token);
  const session = await openSession(client, { workspace: "/work/proj" });
  const term = new ScriptedTerminal();
  const done = runChat(client, term, session, {
    color: false,
    approvalGuardMs: options.guardMs ?? 0,
    ...(options.graceMs ? { cancelGraceMs: options.graceMs } : {}),
    ...(options.now ? { now: options.now } : {}),
    onFrame: (f) => term.frames.push(f),
  });
  await term.waitFor(/astrid chat · session/);
  return {
    api,
    term,
    session,
    done,
    async close() {
      term.end();
      await done;
      await api.close();
      client.close();
    },
  };
}

Deno.test("chat: a prompt streams its text, asks the approval, 'y' posts allow_once and the turn finishes with the budget shown", async () => {
  const t = await start();
  try {
    assert.deepEqual(t.api.created, ["/work/proj"]);
    t.term.type("write the notes\r");
    const asking = await t.term.waitFor(/\[y\] Allow once/);
    assert.match(asking, /Hello from the scripted turn\./);
    assert.match(asking, /→ write_file .*notes\.txt/);
    assert.match(asking, /Approval needed: fs_write · risk medium/);
    assert.match(asking, /budget \$0\.0123 \/ \$5\.0000/);
    assert.deepEqual(t.api.answers, []);
    t.term.type("y");
    const done = await t.term.waitFor(/✔ done \(12 in \/ 34 out tokens\)/);
    assert.deepEqual(t.api.answers, [{
      request_id: "apr-1",
      decision: "allow_once",
    }]);
    assert.match(done, /you answered: Allow once/);
    assert.match(done, /← write_file: wrote notes\.txt/);
    assert.match(done, /All done\./);
    assert.doesNotMatch(done, /Approval needed/);
    assert.deepEqual(t.api.prompts, ["write the notes"]);
  } finally {
    await t.close();
  }
});

Deno.test("chat: Esc denies an approval; Tab and Enter pick another answer", async () => {
  const t = await start();
  try {
    t.term.type("first\r");
    await t.term.waitFor(/\[y\] Allow once/);
    t.term.type("\x1b");
    await t.term.waitFor(/I may not\./);
    t.term.type("second\r");
    await t.term.waitFor(/apr-2|\[y\] Allow once/);
    t.term.type("\t\t");
    await t.term.waitFor(/▸\[w\] Workspace/);
    t.term.type("\r");
    await t.term.waitFor(/All done\./);
    assert.deepEqual(t.api.answers.map((a) => a.decision), [
      "deny",
      "allow_workspace",
    ]);
  } finally {
    await t.close();
  }
});

Deno.test("chat: Ctrl-C during a turn posts cancel; a second Ctrl-C quits", async () => {
  const t = await start();
  t.term.type("slow\r");
  await t.term.waitFor(/Working on it, slowly/);
  assert.deepEqual(t.api.cancels, []);
  t.term.type("\x03");
  await t.term.waitFor(/turn cancelled/);
  assert.deepEqual(t.api.cancels, [t.session.id]);
  t.term.type("\x03");
  assert.equal(await t.done, 0);
  await t.api.close();
});

Deno.test("chat: /help lists the commands; / opens the palette; /diff shows the overlay; unknown commands say so; /quit ends", async () => {
  const t = await start();
  t.term.type("/");
  const palette = await t.term.waitFor(/ \/approvals/);
  assert.match(palette, / \/commit \[paths…\]/);
  t.term.type("help\r");
  const help = await t.term.waitFor(/Commands:/);
  for (
    const c of [
      "/new",
      "/sessions",
      "/diff",
      "/commit",
      "/approvals",
      "/clear",
      "/quit",
    ]
  ) {
    assert.ok(help.includes(c), c);
  }
  t.term.type("/diff\r");
  await t.term.waitFor(/added notes\.txt/);
  t.term.type("/bogus\r");
  await t.term.waitFor(/unknown command \/bogus/);
  t.term.type("/clear\r");
  await t.term.waitFor(/^(?![\s\S]*Commands:)/);
  t.term.type("/quit\r");
  assert.equal(await t.done, 0);
  await t.api.close();
});

Deno.test("chat: /new starts another session in the same workspace; /sessions lists both and /sessions <id prefix> switches back", async () => {
  const t = await start();
  try {
    t.term.type("/new\r");
    await t.term.waitFor(/session [0-9a-f-]{36} in \/work\/proj/);
    assert.equal(t.api.created.length, 2);
    t.term.type("/sessions\r");
    const list = await t.term.waitFor(/Sessions/);
    assert.ok(list.includes(t.session.id.slice(0, 20)));
    assert.doesNotMatch(
      list,
      new RegExp(`session ${t.session.id.slice(0, 8)}`),
    );
    t.term.type(`/sessions ${t.session.id.slice(0, 13)}\r`);
    await t.term.waitFor(
      new RegExp(`astrid chat · session ${t.session.id.slice(0, 8)}`),
    );
    t.term.type("/sessions zzz\r");
    await t.term.waitFor(/no session starts with 'zzz'/);
  } finally {
    await t.close();
  }
});

Deno.test("chat: /commit answers the commit's own approval request (found by polling the list) and shows what was committed", async () => {
  const t = await start();
  try {
    t.term.type("/commit notes.txt\r");
    const asking = await t.term.waitFor(/\[y\] Allow once/);
    assert.match(asking, /workspace_commit · risk high/);
    assert.match(asking, /committing…/);
    t.term.type("y");
    await t.term.waitFor(/committed:\n\s+write notes\.txt/);
    assert.deepEqual(t.api.answers.map((a) => a.decision), ["allow_once"]);
    t.term.type("/commit\r");
    await t.term.waitFor(/\[n\] Deny/);
    t.term.type("n");
    await t.term.waitFor(/APPROVAL_DENIED/);
  } finally {
    await t.close();
  }
});

Deno.test("chat: /approvals lists deferred requests and asks them; the answer is posted", async () => {
  const t = await start();
  try {
    const id = t.api.defer(t.session.id, "net_connect", "api.example.com:443");
    t.term.type("/approvals\r");
    const asking = await t.term.waitFor(/\[a\] Always/);
    assert.match(asking, /1 approval\(s\) waiting/);
    assert.match(
      asking,
      /deferred deferred-1: net_connect api\.example\.com:443 \(nobody answered in\s+time\)/,
    );
    t.term.type("a");
    await t.term.waitFor(/you answered: Allow always/);
    assert.deepEqual(t.api.answers, [{
      request_id: id,
      decision: "allow_always",
    }]);
  } finally {
    await t.close();
  }
});

Deno.test("chat: escape sequences in the daemon's text never reach the terminal", async () => {
  const api = scriptedApi();
  const client = new ApiClient({ handler: api.handler }, api.token);
  const session = await openSession(client, { workspace: "/w" });
  const written: string[] = [];
  const term = new ScriptedTerminal();
  term.write = (text) => void written.push(text);
  const done = runChat(client, term, session, {
    color: false,
    onFrame: (f) => term.frames.push(f),
  });
  api.defer(session.id, "x\x1b]0;owned\x07", "\x1b[2J/etc/passwd");
  term.type("/approvals\r");
  await term.waitFor(/etc\/passwd/);
  term.end();
  await done;
  await api.close();
  client.close();
  const all = written.join("");
  assert.ok(!all.includes("\x1b]0;owned"));
  assert.ok(!all.includes("\x1b[2J/etc"));
});

Deno.test("chat: keys typed as an approval prompt appears, or pasted, do not answer it; a key pressed once it has been seen does", async () => {
  let clock = 1_000_000;
  const t = await start({ guardMs: 300, now: () => clock });
  try {
    t.term.type("write\r");
    await t.term.waitFor(/\[a\] Always/);
    clock += 50;
    t.term.type("a");
    await t.term.waitFor(/key ignored/);
    t.term.type("\r");
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(t.api.answers.length, 0);
    assert.match(t.term.screen(), /\[a\] Always/);
    clock += 300;
    t.term.type("\x1b[200~y\x1b[201~");
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(t.api.answers.length, 0, "a pasted y does not answer");
    t.term.type("y");
    await t.term.waitFor(/All done\./);
    assert.deepEqual(t.api.answers.map((a) => a.decision), ["allow_once"]);
  } finally {
    await t.close();
  }
});

Deno.test("chat: a continued session shows its history", async () => {
  const first = await start();
  first.term.type("write\r");
  await first.term.waitFor(/\[y\] Allow once/);
  first.term.type("y");
  await first.term.waitFor(/All done\./);
  const client = new ApiClient({ handler: first.api.handler }, first.api.token);
  const session = await openSession(client, {
    workspace: "/ignored",
    session: first.session.id,
  });
  const term = new ScriptedTerminal();
  const done = runChat(client, term, session, {
    color: false,
    onFrame: (f) => term.frames.push(f),
  });
  const screen = await term.waitFor(/Hello from the scripted turn\./);
  assert.match(screen, /› write/);
  assert.match(screen, /→ write_file/);
  term.end();
  await done;
  client.close();
  await first.close();
});

Deno.test("chat: two quick Ctrl-C quit while the turn still runs (the daemon ignores the cancel); the stream is dropped", async () => {
  const t = await start();
  t.term.type("stubborn\r");
  await t.term.waitFor(/Ignoring cancels/);
  t.term.type("\x03");
  await t.term.waitFor(/cancelling… \(Ctrl-C again to quit\)/);
  t.term.type("\x03");
  assert.equal(await t.done, 0);
  assert.deepEqual(t.api.cancels, [t.session.id, t.session.id]);
  await t.api.close();
});

Deno.test("chat: when the daemon does not end a cancelled turn, the chat drops its stream after the grace period", async () => {
  const t = await start({ graceMs: 50 });
  try {
    t.term.type("stubborn\r");
    await t.term.waitFor(/Ignoring cancels/);
    t.term.type("\x03");
    await t.term.waitFor(/turn cancelled/);
    await t.term.waitFor(/ idle/);
    t.term.type("next\r");
    await t.term.waitFor(/\[y\] Allow once/);
  } finally {
    await t.close();
  }
});
