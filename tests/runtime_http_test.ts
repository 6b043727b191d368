/**
 * End-to-end, in both engines: `http_request` to a loopback server. The
 * manifest grant alone is not enough — loopback and private hosts are blocked
 * by policy (audited) unless `security.allow_private_networks`; with it, the
 * granted host is reached, a host outside the manifest is still denied, and
 * cloud metadata stays blocked.
 */
import assert from "node:assert/strict";
import {
  assertOk,
  assertRefused,
  ENGINES,
  makeRuntime,
  PERMS,
  type RuntimeFixture,
} from "./runtime_fixture_test.ts";

const HTTP_PERMS: Deno.PermissionOptionsObject = {
  ...PERMS,
  net: ["127.0.0.1"],
};

/** Net grants name the server's port (a grant without one means 80/443 only). */
function grants(port: number): string[] {
  return [
    `net = ["127.0.0.1:${port}", "localhost:${port}", "vm:${port}", "169.254.169.254"]`,
  ];
}

/** A loopback server that records the paths it was asked for. */
function loopback(): { port: number; seen: string[]; close(): Promise<void> } {
  const seen: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => {
      seen.push(new URL(req.url).pathname);
      return new Response("hello from loopback");
    },
  );
  return { port: server.addr.port, seen, close: () => server.shutdown() };
}

async function boot(
  engine: "js" | "wasm",
  config: string,
  port: number,
): Promise<{ f: RuntimeFixture; id: string }> {
  const f = await makeRuntime({ config });
  const id = `${engine}-web`;
  try {
    await f.install({ name: id, engine, capabilities: grants(port) });
    assert.deepEqual((await f.boot()).loaded, [id]);
  } catch (err) {
    await f.close();
    throw err;
  }
  return { f, id };
}

for (const engine of ENGINES) {
  Deno.test({
    name:
      `runtime (${engine}): http_request to a granted loopback host is blocked by policy and audited unless private networks are allowed`,
    permissions: HTTP_PERMS,
    async fn() {
      const server = loopback();
      try {
        const { f, id } = await boot(engine, "", server.port);
        try {
          // Granted names of loopback (a dotless name is an intranet name).
          for (const host of ["127.0.0.1", "localhost", "vm"]) {
            assertRefused(
              await f.hostCall(id, "http_request", {
                url: `http://${host}:${server.port}/blocked`,
              }),
              "POLICY_BLOCKED",
            );
          }
          // Loopback spelled as IPv4-mapped IPv6 is another host: not granted.
          assertRefused(
            await f.hostCall(id, "http_request", {
              url: `http://[::ffff:7f00:1]:${server.port}/blocked`,
            }),
            "MANIFEST_DENIED",
          );
          assert.deepEqual(server.seen, []);
          const denied = await f.audit(id, "denied");
          assert.deepEqual(
            denied.map((e) => (e.proof as { layer: string }).layer),
            ["policy", "policy", "policy", "manifest"],
          );
        } finally {
          await f.close();
        }
      } finally {
        await server.close();
      }
    },
  });

  Deno.test({
    name:
      `runtime (${engine}): with private networks allowed, a granted loopback host is reached; ungranted hosts and cloud metadata are still refused`,
    permissions: HTTP_PERMS,
    async fn() {
      const server = loopback();
      try {
        const { f, id } = await boot(
          engine,
          "[security]\nallow_private_networks = true\n",
          server.port,
        );
        try {
          const reply = assertOk(
            await f.hostCall(id, "http_request", {
              url: `http://127.0.0.1:${server.port}/granted`,
            }),
          ) as { status: number; body: string };
          assert.equal(reply.status, 200);
          assert.equal(reply.body, "hello from loopback");
          assertRefused(
            await f.hostCall(id, "http_request", {
              url: `http://127.0.0.2:${server.port}/ungranted`,
            }),
            "MANIFEST_DENIED",
          );
          // The granted host on another port is another grant.
          assertRefused(
            await f.hostCall(id, "http_request", {
              url: `http://127.0.0.1:${server.port === 1 ? 2 : 1}/port`,
            }),
            "MANIFEST_DENIED",
          );
          assertRefused(
            await f.hostCall(id, "http_request", {
              url: "http://169.254.169.254/latest/meta-data/",
            }),
            "POLICY_BLOCKED",
          );
          assert.deepEqual(server.seen, ["/granted"]);
          const allowed = await f.audit(id, "allowed");
          assert.deepEqual(
            allowed.map((e) => (e.action as { url: string }).url),
            [`http://127.0.0.1:${server.port}/granted`],
          );
          assert.equal((await f.audit(id, "denied")).length, 3);
        } finally {
          await f.close();
        }
      } finally {
        await server.close();
      }
    },
  });
}
