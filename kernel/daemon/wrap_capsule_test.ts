import assert from "node:assert/strict";
import { checkWrapManifest, compareWrapInstall } from "./wrap_capsule.ts";

function manifest(lines: readonly string[]): string {
  return [
    "[package]",
    'name = "w"',
    'version = "1.0.0"',
    "[capabilities]",
    ...lines,
  ].join("\n");
}

const SERVER = [
  'host_process = ["npx -y pkg@1.0.0"]',
  "[[mcp_server]]",
  'id = "s"',
  'command = "npx"',
  'args = ["-y", "pkg@1.0.0"]',
];

Deno.test({
  name: "checkWrapManifest() accepts an npm server in broker mode",
  permissions: "none",
  fn() {
    const m = checkWrapManifest(
      manifest(['fs_read = ["/ws/docs"]', ...SERVER]),
      {
        file: "Capsule.toml",
        dir: "/w",
      },
    );
    assert.equal(m.mcp_servers.length, 1);
  },
});

for (
  const [what, lines, pattern] of [
    [
      "no [[mcp_server]]",
      ['fs_read = ["/ws"]'],
      /must declare \[\[mcp_server\]\]/,
    ],
    [
      "an env name that steers Deno",
      [
        ...SERVER.slice(0, 1),
        "[env.DENO_PERMISSION_BROKER_PATH]",
        'type = "string"',
        ...SERVER.slice(1),
      ],
      /steers Deno/,
    ],
    ["a path with '..'", ['fs_read = ["/ws/../etc"]', ...SERVER], /'\.\.'/],
    ["a path with ','", ['fs_read = ["/ws,/etc"]', ...SERVER], /','/],
    [
      "a remote server (url): nothing local to confine",
      [
        'net = ["mcp.example.com"]',
        "[[mcp_server]]",
        'id = "r"',
        'url = "https://mcp.example.com/mcp"',
      ],
      /remote server/,
    ],
    [
      "an unknown key",
      ["allow_everything = true", ...SERVER],
      /allow_everything/,
    ],
  ] as const
) {
  Deno.test({
    name: `checkWrapManifest() refuses ${what} (MANIFEST_INVALID)`,
    permissions: "none",
    fn() {
      assert.throws(
        () =>
          checkWrapManifest(manifest(lines), {
            file: "Capsule.toml",
            dir: "/w",
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
  name:
    "compareWrapInstall() without a runtime key reports the capsule absent (nothing can be installed)",
  permissions: { read: true, write: true },
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/Capsule.toml`, manifest(SERVER));
      assert.deepEqual(await compareWrapInstall(null, dir), {
        state: "absent",
        capsule: "w",
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
