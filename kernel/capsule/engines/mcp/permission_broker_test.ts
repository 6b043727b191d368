import assert from "node:assert/strict";
import { createDenoNet } from "../../../host/deno_net.ts";
import { MemoryLogger } from "../../../testing/memory_logger.ts";
import { readerSource, runBrokeredChild } from "./_broker_child_test.ts";
import {
  type BrokerRequest,
  type BrokerVerdict,
  startPermissionBroker,
} from "./permission_broker.ts";

const PERMS = {
  read: true,
  write: true,
  run: true,
  env: true,
  net: true,
} as const;

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "astrid_broker_" }),
  );
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name:
    "`startPermissionBroker()` answers a real child: allowed read works, denied read and env fail with NotCapable, in order",
  permissions: PERMS,
  fn: () =>
    withTempDir(async (dir) => {
      await Deno.writeTextFile(`${dir}/a.txt`, "hello\n");
      const logger = new MemoryLogger();
      const seen: BrokerRequest[] = [];
      const broker = await startPermissionBroker({
        socketPath: `${dir}/broker.sock`,
        net: createDenoNet({ logger }),
        logger,
        decide: (req): Promise<BrokerVerdict> => {
          seen.push(req);
          return Promise.resolve(
            req.permission === "read" && req.value === `${dir}/a.txt`
              ? { allow: true }
              : { allow: false, reason: "not granted by test" },
          );
        },
      });
      try {
        assert.equal(
          (await Deno.lstat(broker.path)).mode! & 0o777,
          0o600,
        );
        const r = await runBrokeredChild(
          dir,
          broker.path,
          readerSource(`${dir}/a.txt`, "/etc/passwd"),
        );
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(r.stdout.trim().split("\n"), [
          "allowed ok hello",
          "denied err NotCapable not granted by test",
          "env err NotCapable not granted by test",
        ]);
        assert.deepEqual(seen, [
          { permission: "read", value: `${dir}/a.txt` },
          { permission: "read", value: "/etc/passwd" },
          { permission: "env", value: "SECRET" },
        ]);
        assert.equal(broker.stats.connections, 1);
        assert.equal(broker.stats.allowed, 1);
        assert.equal(broker.stats.denied, 2);
        assert.equal(broker.stats.malformed, 0);
        assert.equal(typeof broker.stats.pid, "number");
      } finally {
        await broker.close();
      }
      assert.equal(
        await Deno.lstat(broker.path).then(() => "present", () => "gone"),
        "gone",
      );
    }),
});

Deno.test({
  name:
    "`startPermissionBroker()` closing the socket mid-check ends the child with a non-zero exit (fail closed)",
  permissions: PERMS,
  fn: () =>
    withTempDir(async (dir) => {
      const logger = new MemoryLogger();
      const net = createDenoNet({ logger });
      const broker = await startPermissionBroker({
        socketPath: `${dir}/broker.sock`,
        net,
        logger,
        decide: () => {
          closing = broker.close();
          return Promise.resolve({ allow: true });
        },
      });
      let closing: Promise<void> | null = null;
      const r = await runBrokeredChild(
        dir,
        broker.path,
        `try { Deno.readTextFileSync("/etc/hostname"); } catch { /* */ }\nconsole.log("survived");`,
      );
      assert.notEqual(r.code, 0);
      assert.doesNotMatch(r.stdout, /survived/);
      assert.notEqual(closing, null);
      await closing;
    }),
});

async function rawExchange(
  path: string,
  lines: string[],
): Promise<string> {
  const conn = await Deno.connect({ transport: "unix", path });
  try {
    await conn.write(new TextEncoder().encode(lines.join("")));
    let got = "";
    const buf = new Uint8Array(4096);
    while (true) {
      const n = await conn.read(buf).catch((e) => {
        if (e instanceof Deno.errors.ConnectionReset) return null;
        throw e;
      });
      if (n === null) return got;
      got += new TextDecoder().decode(buf.subarray(0, n));
    }
  } finally {
    conn.close();
  }
}

function line(over: Record<string, unknown>): string {
  return JSON.stringify({
    v: 1,
    pid: 42,
    id: 1,
    datetime: "2026-11-22T00:00:00Z",
    permission: "read",
    value: "/x",
    ...over,
  }) + "\n";
}

for (
  const [label, bad] of [
    ["not JSON", "{nope\n"],
    ["an unknown permission", line({ id: 2, permission: "everything" })],
    ["a repeated id", line({ id: 1 })],
    ["another pid", line({ id: 2, pid: 43 })],
    ["an extra key", line({ id: 2, extra: true })],
    ["a wrong version", line({ id: 2, v: 2 })],
    ["a numeric value", line({ id: 2, value: 7 })],
    ["an over-long line", "x".repeat(70 * 1024)],
  ] as const
) {
  Deno.test({
    name:
      `\`startPermissionBroker()\` closes the connection on ${label} after answering the valid lines before it`,
    permissions: PERMS,
    fn: () =>
      withTempDir(async (dir) => {
        const logger = new MemoryLogger();
        const seen: BrokerRequest[] = [];
        const broker = await startPermissionBroker({
          socketPath: `${dir}/broker.sock`,
          net: createDenoNet({ logger }),
          logger,
          decide: (req) => {
            seen.push(req);
            return Promise.resolve({ allow: true });
          },
        });
        try {
          const got = await rawExchange(broker.path, [
            line({}),
            bad,
            line({ id: 3 }),
          ]);
          assert.equal(got, '{"id":1,"result":"allow"}\n');
          assert.equal(seen.length, 1);
          assert.equal(broker.stats.malformed, 1);
          assert.ok(
            logger.records.some((e) =>
              e.message === "Permission broker closed a connection"
            ),
          );
        } finally {
          await broker.close();
        }
      }),
  });
}

Deno.test({
  name:
    "`startPermissionBroker()` serves one connection only and denies when decide throws",
  permissions: PERMS,
  fn: () =>
    withTempDir(async (dir) => {
      const logger = new MemoryLogger();
      const broker = await startPermissionBroker({
        socketPath: `${dir}/broker.sock`,
        net: createDenoNet({ logger }),
        logger,
        decide: () => Promise.reject(new Error("gate down")),
      });
      try {
        const first = await Deno.connect({
          transport: "unix",
          path: broker.path,
        });
        await first.write(new TextEncoder().encode(line({})));
        const buf = new Uint8Array(256);
        const n = await first.read(buf);
        assert.equal(
          new TextDecoder().decode(buf.subarray(0, n!)),
          '{"id":1,"result":"deny","reason":"broker decision failed"}\n',
        );
        assert.equal(
          await rawExchange(broker.path, [line({ id: 1 })]),
          "",
        );
        assert.equal(broker.stats.refusedConnections, 1);
        first.close();
      } finally {
        await broker.close();
      }
    }),
});

Deno.test({
  name: "`startPermissionBroker()` stops when its signal fires",
  permissions: PERMS,
  fn: () =>
    withTempDir(async (dir) => {
      const logger = new MemoryLogger();
      const ac = new AbortController();
      const broker = await startPermissionBroker({
        socketPath: `${dir}/broker.sock`,
        net: createDenoNet({ logger }),
        logger,
        decide: () => Promise.resolve({ allow: true }),
        signal: ac.signal,
      });
      ac.abort();
      await broker.close();
      await assert.rejects(
        Deno.connect({ transport: "unix", path: broker.path }),
      );
    }),
});
