// deno-lint-ignore-file no-console -- a command-line report printer
/**
 * `deno task conformance:server [--write] [scenario…]`: the server scenarios
 * of `@modelcontextprotocol/conformance` against `astrid mcp serve --http`.
 *
 * Setup: a throwaway home with the `router` capsule and the fixture MCP
 * capsule `conformance` (`tests/fixtures/mcp_serve/server.ts`, the v2 server
 * SDK, offering the tools, resources and prompts the scenarios call), its
 * daemon, and `astrid mcp serve --http` with a bearer token. The suite has
 * no way to send a token, so it talks to a loopback relay that adds the
 * `Authorization` header and forwards everything else byte for byte — the
 * `Host` and `Origin` headers included, so the DNS-rebinding scenario
 * reaches Astrid's own checks. What is tested is Astrid's front: its
 * protocol handling, its gateway, and the capsule behind it.
 *
 * Each scenario runs on its own (`server --scenario <name>`), with the
 * results directory read back for its checks. `--write` writes the pass
 * counts per scenario to `docs/conformance-server.md`; the exit code is 1
 * when a failure is not in `tests/conformance_server_baseline.yaml`.
 *
 * @module
 */
import http from "node:http";
import { Readable } from "node:stream";
import * as path from "node:path";

/** The pinned suite. */
export const CONFORMANCE =
  "npm:@modelcontextprotocol/conformance@0.2.0-alpha.12";

const ROOT = path.resolve(import.meta.dirname ?? ".", "../..");
/** Expected failures, with the reason of each (`docs/conformance-server.md`). */
export const BASELINE: string = path.join(
  ROOT,
  "tests/conformance_server_baseline.yaml",
);

/** One check of a scenario. */
export interface Check {
  readonly id: string;
  readonly status: string;
  readonly errorMessage?: string;
}

/** The outcome of one scenario. */
export interface ScenarioResult {
  readonly scenario: string;
  readonly checks: readonly Check[];
}

/** Counts of a scenario's checks. */
export function counts(
  r: ScenarioResult,
): { pass: number; fail: number; other: number } {
  let pass = 0;
  let fail = 0;
  let other = 0;
  for (const c of r.checks) {
    if (c.status === "SUCCESS") pass++;
    else if (c.status === "FAILURE") fail++;
    else other++;
  }
  return { pass, fail, other };
}

/**
 * Runs the suite's active server scenarios against a URL.
 *
 * @param url The MCP endpoint.
 * @param outDir Where the suite writes its results (`<scenario…>/checks.json`).
 * @param options The expected-failures baseline; one scenario only.
 * @returns The suite's exit code (with a baseline: 1 on an unexpected
 *   failure or a stale entry) and its output.
 */
export async function runSuite(
  url: string,
  outDir: string,
  options: {
    baseline?: string;
    scenario?: string;
    /** Suite arguments selecting the scenarios (e.g. `--spec-version X`). */
    select?: readonly string[];
  } = {},
): Promise<{ code: number; output: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      CONFORMANCE,
      "server",
      "--url",
      url,
      "-o",
      outDir,
      ...(options.baseline ? ["--expected-failures", options.baseline] : []),
      ...(options.scenario ? ["--scenario", options.scenario] : []),
      ...(options.select ?? []),
    ],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    output: dec.decode(out.stdout) + dec.decode(out.stderr),
  };
}

/**
 * Reads the checks the suite wrote, per scenario.
 *
 * @param outDir The suite's output directory.
 * @returns One result per scenario, sorted by name.
 */
export async function readResults(outDir: string): Promise<ScenarioResult[]> {
  const out: ScenarioResult[] = [];
  for await (const file of walkJson(outDir)) {
    if (path.basename(file) !== "checks.json") continue;
    const list = JSON.parse(await Deno.readTextFile(file));
    if (!Array.isArray(list)) continue;
    const dir = path.basename(path.dirname(file));
    out.push({
      scenario: dir.replace(/-\d{4}-\d{2}-\d{2}T.*$/, "").replace(
        /^server-/,
        "",
      ),
      checks: list.filter((c) =>
        typeof c?.id === "string" && typeof c?.status === "string"
      ).map((c) => ({
        id: c.id,
        status: c.status,
        ...(c.errorMessage ? { errorMessage: String(c.errorMessage) } : {}),
      })),
    });
  }
  return out.sort((a, b) => a.scenario.localeCompare(b.scenario));
}

async function* walkJson(dir: string): AsyncGenerator<string> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch {
    return; // silent-ok: the suite wrote nothing
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory) yield* walkJson(p);
    else if (e.name.endsWith(".json")) yield p;
  }
}

/**
 * A loopback relay that adds the bearer token and forwards the rest
 * unchanged (`Host` and `Origin` included).
 *
 * @param target The port of `astrid mcp serve --http`.
 * @param token Its token.
 * @returns The relay's URL and a way to stop it.
 */
export function tokenRelay(
  target: number,
  token: string,
): { url: string; close(): Promise<void> } {
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
  }, (req) =>
    new Promise<Response>((resolve, reject) => {
      const u = new URL(req.url);
      const headers: Record<string, string> = {};
      req.headers.forEach((v, k) => (headers[k] = v));
      headers["authorization"] = `Bearer ${token}`;
      const out = http.request({
        host: "127.0.0.1",
        port: target,
        path: u.pathname + u.search,
        method: req.method,
        headers,
      }, (res) => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) {
          if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(", ") : v);
        }
        const empty = res.statusCode === 204 || res.statusCode === 304;
        resolve(
          new Response(
            empty ? null : Readable.toWeb(res) as ReadableStream<Uint8Array>,
            { status: res.statusCode ?? 502, headers: h },
          ),
        );
      });
      out.on("error", reject);
      req.signal.addEventListener("abort", () => out.destroy());
      if (req.body) Readable.fromWeb(req.body as never).pipe(out);
      else out.end();
    }));
  return {
    url: `http://127.0.0.1:${server.addr.port}/mcp`,
    close: () => server.shutdown(),
  };
}

/** A running `astrid mcp serve --http` behind the token relay. */
export interface Target extends AsyncDisposable {
  /** The relay's MCP endpoint (no token needed). */
  readonly url: string;
}

/**
 * Starts the daemon of a throwaway home with `router` and the fixture MCP
 * capsule, `astrid mcp serve --http --capsule conformance`, and the relay.
 *
 * @returns The target; dispose it.
 */
export async function startTarget(): Promise<Target> {
  const { tempHome, installCapsules, spawnDaemonProcess } = await import(
    "../daemon_fixture_test.ts"
  );
  const { installFixtureCapsule, listeningUrl } = await import(
    "../mcp_serve_fixture_test.ts"
  );
  const { CLI_MAIN, CLI_PERMS } = await import("../cli_fixture_test.ts");
  const h = await tempHome('[workspace]\nmode = "autonomous"\n');
  const cleanup: (() => PromiseLike<unknown>)[] = [
    () => h[Symbol.asyncDispose](),
  ];
  const close = async () => {
    for (const c of cleanup.reverse()) {
      await Promise.resolve(c()).catch(() => {});
    }
  };
  try {
    await installCapsules(h, ["router"]);
    await installFixtureCapsule(h.env);
    const daemon = await spawnDaemonProcess(h);
    cleanup.push(() => daemon.stop());
    const token = crypto.randomUUID() + crypto.randomUUID();
    const serve = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...CLI_PERMS,
        CLI_MAIN,
        "mcp",
        "serve",
        "--http",
        "--capsule",
        "conformance",
        "-w",
        h.workspace,
      ],
      env: { ...h.env, ASTRID_MCP_TOKEN: token },
      clearEnv: true,
      cwd: h.dir,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    cleanup.push(async () => {
      try {
        serve.kill("SIGTERM");
      } catch {
        // silent-ok: already gone
      }
      await serve.status;
    });
    const served = await listeningUrl(serve.stderr);
    const relay = tokenRelay(Number(new URL(served).port), token);
    cleanup.push(() => relay.close());
    return { url: relay.url, [Symbol.asyncDispose]: close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * The results table of `docs/conformance-server.md`.
 *
 * @param results Per-scenario checks.
 * @returns Markdown.
 */
export function resultsTable(results: readonly ScenarioResult[]): string {
  const rows = results.map((r) => {
    const c = counts(r);
    const failed = r.checks.filter((x) => x.status === "FAILURE").map((x) =>
      x.id
    );
    return `| ${r.scenario} | ${c.pass} | ${c.fail} | ${c.other} | ${
      failed.join(", ")
    } |`;
  });
  const total = results.reduce(
    (a, r) => {
      const c = counts(r);
      return {
        pass: a.pass + c.pass,
        fail: a.fail + c.fail,
        other: a.other + c.other,
        clean: a.clean + (c.fail === 0 ? 1 : 0),
      };
    },
    { pass: 0, fail: 0, other: 0, clean: 0 },
  );
  return [
    `${total.clean} of ${results.length} scenarios without a failing check; ${total.pass} checks passed, ${total.fail} failed, ${total.other} warnings/skipped/info.`,
    "",
    "| scenario | checks passed | failed | other | failing checks |",
    "| --- | ---: | ---: | ---: | --- |",
    ...rows,
  ].join("\n");
}

/**
 * The runs: the active scenarios of 2025-11-25, and exactly the scenarios
 * the 2026-07-28 revision requires (frozen at its release).
 */
export const RUNS: readonly { name: string; select: readonly string[] }[] = [
  { name: "2025-11-25", select: ["--spec-version", "2025-11-25"] },
  { name: "2026-07-28", select: ["--requirements", "2026-07-28"] },
];

if (import.meta.main) {
  const write = Deno.args.includes("--write");
  const scenario = Deno.args.find((a) => !a.startsWith("--"));
  await using target = await startTarget();
  let code = 0;
  const tables: string[] = [];
  for (const { name: specVersion, select } of RUNS) {
    const outDir = await Deno.makeTempDir({ prefix: "astrid-conformance-" });
    try {
      const run = await runSuite(target.url, outDir, {
        baseline: BASELINE,
        select,
        ...(scenario ? { scenario } : {}),
      });
      code = Math.max(code, run.code);
      const results = await readResults(outDir);
      console.log(run.output);
      for (const r of results) {
        for (const c of r.checks) {
          if (c.status !== "SUCCESS") {
            console.log(
              `${specVersion} ${r.scenario} ${c.id} ${c.status}: ${
                c.errorMessage ?? ""
              }`,
            );
          }
        }
      }
      tables.push(`### Protocol ${specVersion}\n\n${resultsTable(results)}`);
    } finally {
      await Deno.remove(outDir, { recursive: true });
    }
  }
  console.log(tables.join("\n\n"));
  if (write) {
    const doc = path.join(ROOT, "docs/conformance-server.md");
    const text = await Deno.readTextFile(doc);
    await Deno.writeTextFile(
      doc,
      text.replace(
        /<!-- results:start -->[\s\S]*<!-- results:end -->/,
        `<!-- results:start -->\n${tables.join("\n\n")}\n<!-- results:end -->`,
      ),
    );
  }
  Deno.exitCode = code;
}
