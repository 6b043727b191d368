/**
 * The `shell` tool capsule through the real kernel: bundled, installed,
 * booted, called over the bus exactly as the router calls a tool. Sandboxed
 * runs need bubblewrap (`.ci/setup` installs it); without it they are
 * skipped with a message, and the refusal is tested instead.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import type { ToolDescribeResult, ToolExecuteResult } from "@astrid/sdk";
import {
  type AgentFixture,
  type AgentFixtureOptions,
  startAgentFixture,
} from "../../tests/agent_fixture_test.ts";

const PERMS: Deno.PermissionOptionsObject = {
  read: true,
  write: true,
  env: true,
  run: true,
};

/** `bwrap` on PATH, or `null`. */
async function findBwrap(): Promise<string | null> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    const p = path.join(dir, "bwrap");
    try {
      if ((await Deno.stat(p)).isFile) return p;
    } catch {
      // silent-ok: not in this PATH entry.
    }
  }
  return null;
}

const BWRAP = await findBwrap();
const NO_BWRAP =
  "skipped: bubblewrap (bwrap) is not installed, so no sandboxed run is possible here (.ci/setup installs it)";

let calls = 0;

async function bash(
  fx: AgentFixture,
  args: Record<string, unknown>,
): Promise<ToolExecuteResult> {
  const call_id = `call-${++calls}`;
  const result = await fx.request<ToolExecuteResult>(
    "tool.v1.execute.bash",
    { call_id, name: "bash", arguments: args, session_id: "s1" },
  );
  assert.equal(result.call_id, call_id);
  return result;
}

function withShell(
  fn: (fx: AgentFixture) => Promise<void>,
  options: Partial<AgentFixtureOptions> = {},
): () => Promise<void> {
  return async () => {
    await using fx = await startAgentFixture({
      prefix: "astrid-shell-",
      capsules: ["shell"],
      runtime: { bubblewrap: BWRAP },
      ...options,
    });
    await fn(fx);
  };
}

/** A sandboxed test, or a clear skip without bubblewrap. */
function sandboxed(
  name: string,
  fn: (fx: AgentFixture) => Promise<void>,
  options: Partial<AgentFixtureOptions> = {},
): void {
  Deno.test({
    name: BWRAP ? name : `${name} (${NO_BWRAP})`,
    ignore: BWRAP === null,
    permissions: PERMS,
    fn: withShell(fn, options),
  });
}

Deno.test({
  name: "shell: tool.v1.request.describe offers bash with its schema",
  permissions: PERMS,
  fn: withShell(async (fx) => {
    const stop = fx.runtime.bus.subscribe("kernel", {
      pattern: "tool.v1.request.describe",
      handler: (env) => env.payload,
    });
    try {
      const { tools } = await fx.request<ToolDescribeResult>(
        "tool.v1.request.describe",
        { tools: [] },
      );
      assert.deepEqual(tools.map((t) => [t.name, t.input_schema.required]), [
        ["bash", ["command"]],
      ]);
    } finally {
      stop();
    }
  }),
});

sandboxed(
  "shell: bash runs a command and reports exit code, stdout and stderr in one text",
  async (fx) => {
    const r = await bash(fx, { command: "echo hello; echo oops >&2" });
    assert.deepEqual(r, {
      call_id: r.call_id,
      is_error: false,
      content: "exit code: 0\nstdout:\nhello\nstderr:\noops",
    });
  },
);

sandboxed(
  "shell: bash reports a non-zero exit code as a result, not an error",
  async (fx) => {
    const r = await bash(fx, { command: "echo partial; exit 3" });
    assert.equal(r.is_error, false);
    assert.equal(r.content, "exit code: 3\nstdout:\npartial\nstderr: (empty)");
    const missing = await bash(fx, { command: "no-such-command-xyz" });
    assert.match(
      missing.content,
      /^exit code: 127\n.*stderr:\n.*no-such-command-xyz.*not found/s,
    );
  },
);

sandboxed(
  "shell: bash kills a command at timeout_ms and says so",
  async (fx) => {
    const r = await bash(fx, { command: "sleep 30", timeout_ms: 500 });
    assert.equal(r.is_error, true, r.content);
    assert.match(
      r.content,
      /^bash: the command timed out after 500 ms and was killed.*Raise timeout_ms \(at most 600000\)/,
    );
  },
);

sandboxed(
  "shell: bash cuts long output in the middle with a note, keeping head and tail",
  async (fx) => {
    const r = await bash(fx, { command: "seq 1 20000; echo done" });
    assert.equal(r.is_error, false);
    assert.ok(r.content.length < 31_000, `${r.content.length}`);
    assert.match(r.content, /^exit code: 0\nstdout:\n1\n2\n3\n/);
    assert.match(
      r.content,
      /characters of stdout cut here: the output was too long; redirect it to a file/,
    );
    assert.match(r.content, /\n20000\ndone\nstderr: \(empty\)$/);
  },
);

sandboxed(
  "shell: bash's writes land in the session overlay; the workspace on disk is unchanged",
  async (fx) => {
    const r = await bash(fx, {
      command:
        "cat a.txt && echo new > a.txt && mkdir -p out && echo made > out/b.txt && rm gone.txt",
    });
    assert.equal(r.content, "exit code: 0\nstdout:\nold\nstderr: (empty)");
    assert.equal(await fx.readSession("a.txt"), "new\n");
    assert.equal(await fx.readSession("out/b.txt"), "made\n");
    await assert.rejects(fx.readSession("gone.txt"));
    const ws = fx.tk.workspace;
    assert.equal(await Deno.readTextFile(path.join(ws, "a.txt")), "old\n");
    assert.equal(await Deno.readTextFile(path.join(ws, "gone.txt")), "bye\n");
    await assert.rejects(Deno.stat(path.join(ws, "out")), Deno.errors.NotFound);
    // A later command sees the session's view.
    const again = await bash(fx, { command: "cat a.txt out/b.txt; ls" });
    assert.equal(
      again.content,
      "exit code: 0\nstdout:\nnew\nmade\na.txt\nout\nstderr: (empty)",
    );
    // Each change was a gated, audited write of the shell capsule.
    await fx.tk.kernel.security.gate.flush();
    const files = (await fx.tk.kernel.security.audit.query({
      principal: fx.tk.kernel.principal,
      capsule: "shell" as never,
      decision: "allowed",
    })).map((e) => e.action as { type: string; path?: string; mode?: string })
      .filter((a) => a.type === "capsule_file_access")
      .map((a) => `${a.mode} ${path.relative(ws, a.path ?? "")}`);
    for (const want of ["write a.txt", "write out/b.txt", "delete gone.txt"]) {
      assert.ok(files.includes(want), `${want} in ${files.join(", ")}`);
    }
  },
  { files: { "a.txt": "old\n", "gone.txt": "bye\n" } },
);

sandboxed(
  "shell: bash tells the model which changes were not kept (a symlink is never imported into the overlay)",
  async (fx) => {
    const r = await bash(fx, {
      command: "ln -s /etc/passwd link && echo kept > f.txt",
    });
    assert.equal(
      r.content,
      "exit code: 0\nstdout: (empty)\nstderr: (empty)\nnot kept (skipped): link (symlink)",
    );
    assert.equal(await fx.readSession("f.txt"), "kept\n");
    await assert.rejects(fx.readSession("link"));
  },
);

sandboxed(
  "shell: bash cannot see or touch anything outside the workspace",
  async (fx) => {
    const r = await bash(fx, {
      command:
        `ls ${fx.tk.home}/keys; echo x > ${fx.tk.home}/pwned; echo status $?`,
    });
    assert.equal(r.is_error, false, r.content);
    assert.doesNotMatch(r.content, /runtime\.key/);
    assert.match(r.content, /status [1-9]/);
    await assert.rejects(
      Deno.stat(path.join(fx.tk.home, "pwned")),
      Deno.errors.NotFound,
    );
  },
);

sandboxed(
  "shell: sudo is refused by the policy before anything runs, reported as is_error and audited",
  async (fx) => {
    for (const command of ["sudo id", "echo hi && sudo -u root touch x"]) {
      const r = await bash(fx, { command });
      assert.equal(r.is_error, true, r.content);
      assert.match(
        r.content,
        /^bash: the command was refused by the security policy \(POLICY_BLOCKED: .*sudo.*Do not retry it/s,
      );
    }
    await fx.tk.kernel.security.gate.flush();
    const denied = (await fx.tk.kernel.security.audit.query({
      principal: fx.tk.kernel.principal,
      capsule: "shell" as never,
      decision: "denied",
    })).map((e) =>
      e.action as { type: string; command?: string; args?: string[] }
    )
      .filter((a) => a.type === "capsule_process_spawn");
    assert.equal(denied.length, 2, JSON.stringify(denied));
    await assert.rejects(fx.readSession("x"));
  },
);

Deno.test({
  name:
    "shell: without bubblewrap bash is refused with SANDBOX_UNAVAILABLE, reported clearly as is_error",
  permissions: PERMS,
  fn: withShell(async (fx) => {
    const r = await bash(fx, { command: "echo hi" });
    assert.equal(r.is_error, true);
    assert.match(
      r.content,
      /^bash: cannot run commands: no sandbox \(bubblewrap\) is available.*SANDBOX_UNAVAILABLE.*allow_unsandboxed_spawn.*use the file tools/s,
    );
  }, { runtime: { bubblewrap: null } }),
});

Deno.test({
  name: "shell: bash refuses bad arguments with a message naming the argument",
  permissions: PERMS,
  fn: withShell(async (fx) => {
    for (
      const [args, want] of [
        [{}, /argument 'command' is required/],
        [{ command: "  " }, /argument 'command' is required/],
        [
          { command: "true", timeout_ms: 0 },
          /'timeout_ms' must be an integer from 1 to 600000 \(got 0\)/,
        ],
        [
          { command: "true", timeout_ms: 700_000 },
          /'timeout_ms' must be an integer from 1 to 600000/,
        ],
      ] as const
    ) {
      const r = await bash(fx, args);
      assert.equal(r.is_error, true);
      assert.match(r.content, want);
    }
  }, { runtime: { bubblewrap: null } }),
});

Deno.test({
  name:
    "shell: with security.allow_unsandboxed_spawn and no bubblewrap bash runs and says it ran without a sandbox",
  permissions: PERMS,
  fn: withShell(async (fx) => {
    const r = await bash(fx, { command: "echo hi" });
    assert.equal(
      r.content,
      "exit code: 0\nstdout:\nhi\nstderr: (empty)\nnote: ran without a sandbox, directly in the workspace",
    );
  }, {
    runtime: { bubblewrap: null },
    config: "[security]\nallow_unsandboxed_spawn = true\n",
  }),
});
