import assert from "node:assert/strict";
import { parse } from "smol-toml";
import {
  type GenerateOptions,
  generateWrapManifest,
  type PathInfo,
} from "./wrap_manifest.ts";

const FS = "@modelcontextprotocol/server-filesystem@2026.8.31";

/** A host with the given directories (real paths), files and symlinks. */
function host(
  dirs: readonly string[],
  links: Readonly<Record<string, string>> = {},
): GenerateOptions["inspect"] {
  return (p: string): Promise<PathInfo> => {
    if (dirs.includes(p)) return Promise.resolve({ kind: "dir", real: p });
    const target = links[p];
    if (target !== undefined) {
      return Promise.resolve({ kind: "dir", real: target });
    }
    return Promise.resolve({ kind: "missing", real: null });
  };
}

const BASE = { cwd: "/ws", home: "/home/me", inspect: host(["/ws/docs"]) };

type Toml = {
  package: { name: string };
  capabilities: Record<string, string[]>;
  env?: Record<string, unknown>;
  mcp_server: { command: string; args: string[]; mode: string }[];
};

Deno.test({
  name:
    "generateWrapManifest() grants fs_read on exactly the named directory, in broker mode",
  permissions: "none",
  async fn() {
    const m = await generateWrapManifest(["npx", "-y", FS, "./docs"], BASE);
    const t = JSON.parse(JSON.stringify(parse(m.toml))) as Toml;
    assert.deepEqual(t.capabilities, {
      fs_read: ["/ws/docs"],
      host_process: [`npx -y ${FS}`],
    });
    assert.deepEqual(t.mcp_server, [{
      id: "server",
      command: "npx",
      args: ["-y", FS, "/ws/docs"],
      mode: "broker",
    }]);
    assert.equal(t.package.name, m.name);
    assert.match(m.name, /^wrap-server-filesystem-[0-9a-f]{8}$/);
    assert.deepEqual(m.warnings, []);
  },
});

Deno.test({
  name:
    "generateWrapManifest() never grants more than the named dirs: '..' is applied lexically, options and non-path args grant nothing",
  permissions: "none",
  async fn() {
    const m = await generateWrapManifest(
      ["npx", "-y", FS, "/ws/docs/../docs", "--root=/etc", "notes"],
      { ...BASE, inspect: host(["/ws/docs"]) },
    );
    assert.deepEqual(m.fsRead, ["/ws/docs"]);
    assert.deepEqual(m.fsWrite, []);
    assert.deepEqual(m.args, ["-y", FS, "/ws/docs", "--root=/etc", "notes"]);
    assert.match(m.warnings.join("\n"), /--root=\/etc.*granted nothing/);
    const t = parse(m.toml) as unknown as Toml;
    assert.deepEqual(t.capabilities["fs_read"], ["/ws/docs"]);
    assert.equal(t.capabilities["fs_write"], undefined);
  },
});

Deno.test({
  name:
    "generateWrapManifest() grants fs_write only with writable, and env only the names given",
  permissions: "none",
  async fn() {
    const m = await generateWrapManifest(["npm:" + FS, "/ws/docs"], {
      ...BASE,
      writable: true,
      env: ["__MINIMATCH_TESTING_PLATFORM__"],
    });
    const t = parse(m.toml) as unknown as Toml;
    assert.deepEqual(t.capabilities["fs_write"], ["/ws/docs"]);
    assert.deepEqual(Object.keys(t.env ?? {}), [
      "__MINIMATCH_TESTING_PLATFORM__",
    ]);
    const plain = await generateWrapManifest(["npm:" + FS, "/ws/docs"], BASE);
    assert.notEqual(m.name, plain.name, "different grants, different capsule");
  },
});

Deno.test({
  name:
    "generateWrapManifest() is deterministic: the same command line gives the same manifest",
  permissions: "none",
  async fn() {
    const a = await generateWrapManifest(["npx", "-y", FS, "docs/"], {
      ...BASE,
      inspect: host(["/ws/docs"]),
    }).catch((e) => e);
    // "docs/" is not path-like (no ./ or /): passed as is, granted nothing.
    assert.ok(!(a instanceof Error));
    assert.deepEqual(a.fsRead, []);
    const b = await generateWrapManifest(["npx", "-y", FS, "./docs"], BASE);
    const c = await generateWrapManifest(
      ["npx", "--yes", FS, "/ws/docs"],
      BASE,
    );
    assert.equal(b.toml, c.toml);
  },
});

for (
  const [what, argv, pattern] of [
    ["a local script", ["deno", "run", "./server.ts"], /--manifest/],
    ["deno with its own flags", ["deno", "run", "-A", "npm:x@1.0.0"], /flags/],
    ["a binary", ["python3", "server.py"], /only npm servers/],
    ["an absolute binary path", ["/usr/bin/node", "s.js"], /only npm servers/],
    ["npx with other options", ["npx", "--package", "x", "y"], /npx -y/],
    ["a remote specifier as package", ["npx", "-y", "https://e.vil/x"], /npm/],
    ["the whole file system", ["npx", "-y", FS, "/"], /whole file system/],
    ["a missing directory", ["npx", "-y", FS, "/ws/nope"], /does not exist/],
    ["a symlink to elsewhere", ["npx", "-y", FS, "/ws/link"], /symbolic link/],
    ["a control character", ["npx", "-y", FS, "/ws/docs\n"], /control/],
    ["an empty command", [""], /empty command/],
  ] as const
) {
  Deno.test({
    name: `generateWrapManifest() refuses ${what} (MANIFEST_INVALID)`,
    permissions: "none",
    async fn() {
      await assert.rejects(
        generateWrapManifest(argv, {
          ...BASE,
          inspect: host(["/ws/docs", "/etc"], { "/ws/link": "/etc" }),
        }),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, "MANIFEST_INVALID");
          assert.match(e.message, pattern);
          return true;
        },
      );
    },
  });
}

Deno.test({
  name: "generateWrapManifest() warns about a package without an exact version",
  permissions: "none",
  async fn() {
    const m = await generateWrapManifest([
      "npx",
      "-y",
      "@modelcontextprotocol/server-filesystem",
      "/ws/docs",
    ], BASE);
    assert.match(m.warnings.join("\n"), /no exact version/);
  },
});

Deno.test({
  name: "generateWrapManifest() refuses a malformed env name or capsule name",
  permissions: "none",
  async fn() {
    await assert.rejects(
      generateWrapManifest(["npm:" + FS], { ...BASE, env: ["A=B"] }),
      /not a variable name/,
    );
    await assert.rejects(
      generateWrapManifest(["npm:" + FS], { ...BASE, name: "Bad Name" }),
      /Invalid capsule name/,
    );
  },
});
