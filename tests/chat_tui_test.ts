/**
 * `astrid chat` as a person uses it: the real CLI in a real terminal (tmux,
 * 80x24), keys sent and the screen read, against a daemon API on loopback
 * that speaks the daemon's exact wire format (the real `Router`, scripted
 * turns: `tests/chat_api_fixture_test.ts`).
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { scriptedApi } from "./chat_api_fixture_test.ts";
import {
  CLI_MAIN,
  CLI_PERMS,
  DENO_DIR,
  runAstrid,
} from "./cli_fixture_test.ts";
import { HAS_TMUX, TmuxSession } from "./tmux_fixture_test.ts";
import { APPROVAL_GUARD_MS } from "../cli/tui/chat_app.ts";
import { installCapsules, tempHome } from "./daemon_fixture_test.ts";
import { PROBE } from "./api_fixture_test.ts";

const ROOT = path.resolve(import.meta.dirname ?? ".", "..");

/** The API, served on loopback, and `astrid chat --url` in tmux. */
async function startChat() {
  const api = scriptedApi();
  const url = api.serve();
  const home = await Deno.makeTempDir({ prefix: "astrid-chat-home-" });
  const workspace = path.join(home, "proj");
  await Deno.mkdir(workspace);
  const tmux = await TmuxSession.start([
    Deno.execPath(),
    "run",
    ...CLI_PERMS,
    CLI_MAIN,
    "chat",
    "--url",
    url,
    "-w",
    workspace,
  ], {
    columns: 80,
    rows: 24,
    cwd: ROOT,
    env: {
      HOME: home,
      ASTRID_HOME: path.join(home, ".astrid"),
      ASTRID_TOKEN: api.token,
      DENO_DIR,
      DENO_NO_UPDATE_CHECK: "1",
      NO_COLOR: "1",
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    },
  });
  return {
    api,
    tmux,
    workspace,
    async close() {
      await tmux.kill();
      await api.close();
      await Deno.remove(home, { recursive: true });
    },
  };
}

Deno.test({
  name:
    "astrid chat (tmux 80x24): text streams onto the screen; the approval prompt appears; 'y' posts allow_once and the turn continues; /help lists the commands; the screen follows a resize; a paste sends nothing by itself",
  ignore: !HAS_TMUX,
  async fn() {
    const t = await startChat();
    try {
      await t.tmux.waitForText("astrid chat · session", 30_000);
      assert.deepEqual(t.api.created, [t.workspace]);
      await t.tmux.type("please write the notes");
      await t.tmux.keys("Enter");
      const asking = await t.tmux.waitForText("[y] Allow once");
      assert.match(asking, /› please write the notes/);
      assert.match(asking, /Hello from the scripted turn\./);
      assert.match(asking, /→ write_file/);
      assert.match(
        asking,
        /\[y\] Allow once +\[s\] Session +\[w\] Workspace +\[a\] Always +\[n\] Deny/,
      );
      assert.match(asking, /budget \$0\.0123 \/ \$5\.0000/);
      for (const line of asking.split("\n")) assert.ok([...line].length <= 80);
      assert.deepEqual(t.api.answers, []);

      // a person reads the prompt first; keys within APPROVAL_GUARD_MS of it appearing are type-ahead
      await new Promise((r) => setTimeout(r, APPROVAL_GUARD_MS + 50));
      await t.tmux.type("y");
      const done = await t.tmux.waitForText("✔ done (12 in / 34 out tokens)");
      assert.deepEqual(t.api.answers, [{
        request_id: "apr-1",
        decision: "allow_once",
      }]);
      assert.match(done, /← write_file: wrote notes\.txt/);
      assert.match(done, /All done\./);
      assert.doesNotMatch(done, /\[y\] Allow once/);

      await t.tmux.type("/");
      const palette = await t.tmux.waitForText("/approvals");
      assert.match(palette, /\/commit \[paths…\] +write the overlay/);
      await t.tmux.type("help");
      await t.tmux.keys("Enter");
      const help = await t.tmux.waitForText("Commands:");
      for (
        const c of [
          "/help",
          "/new",
          "/sessions",
          "/diff",
          "/commit",
          "/approvals",
          "/clear",
          "/quit",
        ]
      ) assert.ok(help.includes(c), `${c} in\n${help}`);

      await t.tmux.resize(60, 16);
      // the header, 13 rows, the status line and the input: 16 rows
      const small = await t.tmux.waitForText(
        /^ astrid chat · session[^\n]*\n(?:[^\n]*\n){13} idle[^\n]*\n› *\n?$/,
      );
      const rows = small.replace(/\n$/, "").split("\n");
      assert.equal(rows.length, 16);
      assert.match(rows[0]!, /^ astrid chat · session/);
      assert.match(rows[14]!, /^ idle/);
      for (const r of rows) assert.ok([...r].length <= 60, r);

      // a multi-line paste is one line of input: it sends nothing by itself
      await t.tmux.paste("first line\nsecond line\n");
      await t.tmux.waitForText(/^› first line second line *$/m);
      assert.equal(t.api.prompts.length, 1);
      await t.tmux.keys("C-u");
      await t.tmux.waitForText(/^› *$/m);

      await t.tmux.type("/quit");
      await t.tmux.keys("Enter");
      assert.equal(await t.tmux.waitForExit(), 0);
    } finally {
      await t.close();
    }
  },
});

Deno.test({
  name:
    "astrid chat (tmux 80x24): Ctrl-C during a turn posts cancel; a second Ctrl-C quits with status 0",
  ignore: !HAS_TMUX,
  async fn() {
    const t = await startChat();
    try {
      await t.tmux.waitForText("astrid chat · session", 30_000);
      await t.tmux.type("slow");
      await t.tmux.keys("Enter");
      await t.tmux.waitForText("Working on it, slowly");
      assert.deepEqual(t.api.cancels, []);
      await t.tmux.keys("C-c");
      await t.tmux.waitForText("turn cancelled");
      assert.equal(t.api.cancels.length, 1);
      assert.equal(await t.tmux.exitStatus(), null);
      await t.tmux.keys("C-c");
      assert.equal(await t.tmux.waitForExit(), 0);
    } finally {
      await t.close();
    }
  },
});

Deno.test("astrid chat without a terminal: a usage error that points to astrid -p", async () => {
  const home = await Deno.makeTempDir({ prefix: "astrid-chat-home-" });
  try {
    const run = await runAstrid(["chat"], {
      env: { HOME: home, ASTRID_HOME: path.join(home, ".astrid") },
      stdin: "hello\n",
    });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /needs a terminal/);
    assert.match(run.stderr, /astrid -p/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("astrid chat --snapshot-tui: prints the 80x24 screen after the turn events of stdin", async () => {
  const home = await Deno.makeTempDir({ prefix: "astrid-chat-home-" });
  try {
    const events = [
      { type: "turn_start", turn_id: "t", session: "s" },
      { type: "text_delta", text: "Reading the file." },
      {
        type: "tool_call",
        id: "c",
        name: "read_file",
        arguments: { path: "a" },
      },
      { type: "tool_result", id: "c", is_error: false, content: "contents" },
      { type: "budget", spent_usd: 0.25, limit_usd: null },
      {
        type: "final",
        text: "x",
        usage: { input_tokens: 5, output_tokens: 6 },
      },
    ];
    const run = await runAstrid(["chat", "--snapshot-tui", "read a"], {
      env: { HOME: home, ASTRID_HOME: path.join(home, ".astrid") },
      stdin: events.map((e) => JSON.stringify(e)).join("\n"),
    });
    assert.equal(run.code, 0, run.stderr);
    const rows = run.stdout.trimEnd().split("\n");
    assert.equal(rows.length, 24);
    assert.equal(rows[1], "› read a");
    assert.match(run.stdout, /Reading the file\./);
    assert.match(run.stdout, /← read_file: contents/);
    assert.match(run.stdout, /✔ done \(5 in \/ 6 out tokens\)/);
    assert.match(rows[22]!, /idle .*5↑ 6↓ tok · budget \$0\.2500/);
    const bad = await runAstrid(["chat", "--snapshot-tui"], {
      env: { HOME: home, ASTRID_HOME: path.join(home, ".astrid") },
      stdin: "not json\n",
    });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /error\[INVALID_INPUT\]: line 1 is not JSON/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test({
  name:
    "astrid chat (tmux) against a real auto-started daemon: the turn's approval prompt appears, 'y' answers it through the socket and the turn ends with the decision",
  ignore: !HAS_TMUX,
  async fn() {
    await using h = await tempHome();
    await installCapsules(h, [PROBE]);
    const tmux = await TmuxSession.start([
      Deno.execPath(),
      "run",
      ...CLI_PERMS,
      CLI_MAIN,
      "chat",
      "-w",
      h.workspace,
    ], { columns: 80, rows: 24, cwd: ROOT, env: h.env });
    try {
      await tmux.waitForText("astrid chat · session", 30_000);
      await tmux.type("approve");
      await tmux.keys("Enter");
      const asking = await tmux.waitForText("[y] Allow once");
      assert.match(asking, /deploy/);
      await new Promise((r) => setTimeout(r, APPROVAL_GUARD_MS + 50));
      await tmux.type("y");
      await tmux.waitForText("decision=allow_once");
      await tmux.type("/quit");
      await tmux.keys("Enter");
      assert.equal(await tmux.waitForExit(), 0);
    } finally {
      await tmux.kill();
    }
  },
});
