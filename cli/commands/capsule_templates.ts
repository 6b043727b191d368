/**
 * The files `astrid capsule new` writes: a least-privilege `Capsule.toml`,
 * a working `main.ts` written with `defineCapsule`, a test that runs the
 * capsule inside a real kernel, and a `deno.json` that maps `@astrid/sdk`
 * (and the kernel's test helper) to this checkout.
 *
 * @module
 */

/** What kind of capsule to scaffold. */
export type CapsuleKind = "tool" | "interceptor";

/** What the templates need. */
export interface TemplateInput {
  /** The capsule's name (`^[a-z][a-z0-9-]*$`). */
  readonly name: string;
  readonly kind: CapsuleKind;
  /** `file://` URL of this checkout's `sdk/mod.ts`. */
  readonly sdkUrl: string;
  /** `file://` URL of this checkout's `mod.ts` (the kernel, for tests). */
  readonly kernelUrl: string;
  /**
   * The kernel's `compilerOptions`: the test type-checks kernel modules
   * under the capsule's config, so both must agree.
   */
  readonly compilerOptions: Readonly<Record<string, unknown>>;
}

/** Relative path ⇒ content. */
export function capsuleTemplate(
  input: TemplateInput,
): Record<string, string> {
  const { name } = input;
  const test = `${name.replaceAll("-", "_")}_test.ts`;
  const tool = input.kind === "tool";
  return {
    "Capsule.toml": tool ? toolManifest(name) : interceptorManifest(name),
    "main.ts": tool ? toolMain(name) : interceptorMain(name),
    [test]: tool ? toolTest(name) : interceptorTest(name),
    "deno.json": denoJson(input),
    "README.md": readme(name, input.kind, test),
    ".gitignore": `# Build output of 'astrid capsule build'\n${name}.js\n`,
  };
}

function toolManifest(name: string): string {
  return `# ${name} — an Astrid capsule offering one tool to the agent.
#
# Least privilege: a capsule can do only what this file grants. With no
# [capabilities] at all it can answer the bus and use its own KV, nothing
# else. Every grant below is needed by main.ts; each says why.

[package]
name = "${name}"
version = "0.1.0"
description = "Counts the lines, words and characters of a workspace file"

[[component]]
type = "js"            # TypeScript, run in QuickJS inside its own WebAssembly sandbox
file = "${name}.js"    # the bundle 'astrid capsule build' writes (do not edit)
source = "main.ts"     # the entry 'astrid capsule build' bundles

# The router asks every tool capsule to describe its tools before each model
# call; defineCapsule({ tools }) generates the 'tool.describe' action.
[[interceptor]]
event = "tool.v1.request.describe"
action = "tool.describe"

# One interceptor per tool: the router sends each call of 'word_count' here;
# defineCapsule({ tools }) generates the 'tool.execute' action.
[[interceptor]]
event = "tool.v1.execute.word_count"
action = "tool.execute"

[capabilities]
# Read files of the workspace (cwd:// is the project the session works in).
# Nothing else: no writes (no fs_write), no network (no net), no processes
# (no host_process), no bus publishing (no ipc_publish). The kernel's gate
# checks every read against this list and audits it; $ASTRID_HOME is always
# denied. Narrow it further (e.g. "cwd://docs") if the tool needs less.
fs_read = ["cwd://"]
`;
}

function interceptorManifest(name: string): string {
  return `# ${name} — an Astrid capsule that guards tool calls: it sits in the
# interceptor chain of every tool call and denies the ones that touch secret
# files (.env, *.pem, id_rsa…), before the tool capsule ever sees them.
#
# Least privilege: a capsule can do only what this file grants. This one needs
# no [capabilities] at all — intercepting is declared by [[interceptor]], and
# its counter lives in its own KV, which every capsule has.

[package]
name = "${name}"
version = "0.1.0"
description = "Denies tool calls whose arguments name secret files"

[[component]]
type = "js"            # TypeScript, run in QuickJS inside its own WebAssembly sandbox
file = "${name}.js"    # the bundle 'astrid capsule build' writes (do not edit)
source = "main.ts"     # the entry 'astrid capsule build' bundles

# Every tool call passes through here first (lower priority runs earlier; the
# default is 100). The action is the interceptor named in main.ts.
[[interceptor]]
event = "tool.v1.execute.*"
action = "guard"
priority = 10
`;
}

function toolMain(name: string): string {
  return `/**
 * ${name}: one tool, \`word_count\`, that counts the lines, words and
 * characters of a file in the workspace. \`defineCapsule({ tools })\` turns
 * it into the two actions Capsule.toml routes to: \`tool.describe\` (offers
 * the tool to the model) and \`tool.execute\` (runs it).
 */
import { defineCapsule, host } from "@astrid/sdk";

interface WordCountArgs {
  /** A path relative to the workspace root. */
  path: string;
}

export default defineCapsule({
  tools: {
    word_count: {
      description:
        "Count the lines, words and characters of a text file in the workspace.",
      input_schema: {
        type: "object",
        properties: {
          path: {
            type: "string",
            description: "Path of the file, relative to the workspace root",
          },
        },
        required: ["path"],
      },
      async execute(args: WordCountArgs) {
        if (typeof args.path !== "string" || args.path === "") {
          throw new Error("word_count needs a 'path'");
        }
        // The read goes through the kernel's gate: allowed by fs_read in
        // Capsule.toml, audited, and served from the session's overlay.
        const text = await host.fs.read(\`cwd://\${args.path}\`);
        const words = text.split(/\\s+/).filter((w) => w !== "").length;
        const lines = text === "" ? 0 : text.split("\\n").length -
          (text.endsWith("\\n") ? 1 : 0);
        return { path: args.path, lines, words, chars: text.length };
      },
    },
  },
});
`;
}

function interceptorMain(name: string): string {
  return `/**
 * ${name}: an interceptor on every tool call (\`tool.v1.execute.*\`). It
 * denies a call whose arguments name a secret file, and lets every other
 * call continue unchanged to the tool capsule.
 */
import { defineCapsule, host, type InterceptEvent } from "@astrid/sdk";

const SECRET = /(^|\\/)(\\.env(\\..*)?|id_rsa|id_ed25519|.*\\.pem|.*\\.key)$/;

function mentionsSecret(value: unknown): boolean {
  if (typeof value === "string") return SECRET.test(value.trim());
  if (Array.isArray(value)) return value.some(mentionsSecret);
  if (value !== null && typeof value === "object") {
    return Object.values(value).some(mentionsSecret);
  }
  return false;
}

export default defineCapsule({
  interceptors: {
    async guard(event: InterceptEvent<{ name?: string; arguments?: unknown }>) {
      if (mentionsSecret(event.payload?.arguments)) {
        const denied = ((await host.kv.get("denied")) as number | null) ?? 0;
        await host.kv.set("denied", denied + 1);
        return {
          type: "deny",
          reason: \`${name}: '\${event.payload?.name}' may not touch secret files\`,
        };
      }
      return { type: "continue" };
    },
  },
});
`;
}

function toolTest(name: string): string {
  return `/**
 * Runs ${name} inside a real Astrid kernel: built as 'astrid capsule build'
 * does, installed with a signed record, booted, and called over the bus the
 * way the router calls tools. Run: deno test -A
 */
import assert from "node:assert/strict";
import { startCapsuleTestKernel } from "@astrid/astrid";

const capsuleDir = import.meta.dirname!;

Deno.test("${name}: word_count counts a workspace file", async () => {
  await using k = await startCapsuleTestKernel({
    capsuleDir,
    files: { "notes/hello.txt": "one two three\\nfour\\n" },
  });
  const result = await k.callTool("word_count", { path: "notes/hello.txt" });
  assert.equal(result.is_error, false, result.content);
  assert.deepEqual(JSON.parse(result.content), {
    path: "notes/hello.txt",
    lines: 2,
    words: 4,
    chars: 19,
  });
});

Deno.test("${name}: the tool is offered to the model", async () => {
  await using k = await startCapsuleTestKernel({ capsuleDir });
  const tools = await k.describeTools();
  assert.deepEqual(tools.map((t) => t.name), ["word_count"]);
});

Deno.test("${name}: a missing file is an error result, not a crash", async () => {
  await using k = await startCapsuleTestKernel({ capsuleDir });
  const result = await k.callTool("word_count", { path: "nope.txt" });
  assert.equal(result.is_error, true);
});

Deno.test("${name}: the gate keeps it out of what it was not granted", async () => {
  await using k = await startCapsuleTestKernel({ capsuleDir });
  const result = await k.callTool("word_count", { path: "../../etc/passwd" });
  assert.equal(result.is_error, true);
});
`;
}

function interceptorTest(name: string): string {
  return `/**
 * Runs ${name} inside a real Astrid kernel: built as 'astrid capsule build'
 * does, installed with a signed record, booted; the test stands in for a
 * tool capsule and calls it over the bus the way the router does.
 * Run: deno test -A
 */
import assert from "node:assert/strict";
import { startCapsuleTestKernel } from "@astrid/astrid";

const capsuleDir = import.meta.dirname!;

async function kernelWithReadFile() {
  const k = await startCapsuleTestKernel({ capsuleDir });
  // A stand-in for a tool capsule answering read_file calls.
  k.answer("tool.v1.execute.read_file", (p) => ({
    call_id: (p as { call_id: string }).call_id,
    content: "file text",
    is_error: false,
  }));
  return k;
}

Deno.test("${name}: an ordinary call continues to the tool", async () => {
  await using k = await kernelWithReadFile();
  const result = await k.callTool("read_file", { path: "README.md" });
  assert.equal(result.content, "file text");
});

Deno.test("${name}: a call naming a secret file is denied", async () => {
  await using k = await kernelWithReadFile();
  await assert.rejects(
    () => k.callTool("read_file", { path: "config/.env" }),
    (err: Error & { code?: string }) =>
      err.code === "BUS_DENIED" && /secret files/.test(err.message),
  );
});
`;
}

function denoJson(input: TemplateInput): string {
  return JSON.stringify(
    {
      "//": [
        "'@astrid/sdk' maps to the SDK of the Astrid checkout that scaffolded",
        "this capsule. Published, the mapping is 'jsr:@astrid/sdk@^0.1' (JSR",
        "is not reachable here). '@astrid/astrid' is the kernel, used only by",
        "the test (startCapsuleTestKernel); it is never bundled.",
      ],
      imports: {
        "@astrid/sdk": input.sdkUrl,
        "@astrid/astrid": input.kernelUrl,
      },
      unstable: ["kv", "worker-options"],
      compilerOptions: input.compilerOptions,
      tasks: {
        build: "astrid capsule build .",
        test: "deno test -A",
      },
      lint: { rules: { tags: ["recommended"] } },
    },
    null,
    2,
  ) + "\n";
}

function readme(name: string, kind: CapsuleKind, test: string): string {
  return `# ${name}

An Astrid capsule (${
    kind === "tool" ? "a tool for the agent" : "an interceptor on tool calls"
  }).

- \`main.ts\` — the code, written with \`defineCapsule\` from \`@astrid/sdk\`
- \`Capsule.toml\` — what it is and what it may do (every grant explained)
- \`${test}\` — runs it inside a real kernel: \`deno test -A\`

Build and install:

\`\`\`sh
astrid capsule build .     # bundles main.ts → ${name}.js, pins hashes in capsule.lock.json
astrid capsule install .   # checks the pins, installs with a signed record
\`\`\`
`;
}
