/**
 * Malformed and hostile requests on the daemon's real socket get coded 4xx
 * answers (or a closed connection) and never disturb other clients: after
 * the whole barrage, and while half-open connections hang, the daemon still
 * serves.
 */
import assert from "node:assert/strict";
import { MAX_BODY_BYTES } from "../mod.ts";
import type { StatusInfo } from "../mod.ts";
import {
  clientOf,
  spawnDaemonProcess,
  tempHome,
} from "./daemon_fixture_test.ts";
import type { TempHome } from "./daemon_fixture_test.ts";

/** Sends raw bytes on a fresh connection and reads the answer until the server closes or 2 s pass. */
/** Whether an HTTP answer is whole: headers, and the body its Content-Length names. */
function complete(answer: string): boolean {
  const end = answer.indexOf("\r\n\r\n");
  if (end < 0) return false;
  const length = /\r\ncontent-length: *(\d+)/i.exec(answer.slice(0, end));
  if (length === null) return false;
  return new TextEncoder().encode(answer.slice(end + 4)).length >=
    Number(length[1]);
}

async function raw(
  h: TempHome,
  bytes: Uint8Array | string,
  options: { closeWrite?: boolean } = {},
): Promise<string> {
  const conn = await Deno.connect({ transport: "unix", path: h.files.socket });
  try {
    const data = typeof bytes === "string"
      ? new TextEncoder().encode(bytes)
      : bytes;
    try {
      let at = 0;
      while (at < data.length) at += await conn.write(data.subarray(at));
    } catch {
      // silent-ok: the server may close early on garbage
    }
    if (options.closeWrite) await conn.closeWrite().catch(() => {});
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(64 * 1024);
    const text = () =>
      new TextDecoder().decode(
        chunks.reduce((a, c) => new Uint8Array([...a, ...c]), new Uint8Array()),
      );
    // A generous bound (a loaded machine answers late); the answer is read
    // until it is complete, the server closes, or it stops coming for 2 s.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !complete(text())) {
      const n = await Promise.race([
        conn.read(buf).catch(() => null),
        new Promise<"t">((r) => setTimeout(() => r("t"), 2000)),
      ]);
      if (n === "t") {
        if (chunks.length > 0) break;
        continue;
      }
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
    return text();
  } finally {
    try {
      conn.close();
    } catch {
      // silent-ok: closed by the server
    }
  }
}

function statusLine(answer: string): number | null {
  const m = /^HTTP\/1\.1 (\d{3})/.exec(answer);
  return m ? Number(m[1]) : null;
}

function errorCode(answer: string): string | undefined {
  const body = answer.split("\r\n\r\n")[1] ?? "";
  const m = /"code":"([A-Z_]+)"/.exec(body);
  return m?.[1];
}

Deno.test("malformed and oversized requests get coded 4xx, and the daemon keeps serving other clients", async () => {
  await using h = await tempHome();
  await spawnDaemonProcess(h);
  const token = (await Deno.readTextFile(h.files.token)).trim();
  const auth = `Authorization: Bearer ${token}\r\n`;
  using client = await clientOf(h);

  // Half-open connections that never finish their request, held open
  // during the rest of the barrage.
  const hanging: Deno.UnixConn[] = [];
  for (
    const partial of [
      "GET /v1/sta",
      `POST /v1/sessions HTTP/1.1\r\n${auth}Content-Length: 100\r\n\r\n{"a`,
    ]
  ) {
    const c = await Deno.connect({ transport: "unix", path: h.files.socket });
    await c.write(new TextEncoder().encode(partial));
    hanging.push(c);
  }

  // Expected: one status (with its code), a set of statuses (a route that
  // reads JSON answers 413/400 once sessions are served, 404 before), or
  // "4xx" (hyper's own answer) / "4xx|closed".
  const cases: Array<
    [
      string,
      string | Uint8Array,
      number | number[] | "4xx" | "4xx|closed",
      string?,
    ]
  > = [
    [
      "a bad path",
      `GET /v1/nope HTTP/1.1\r\nHost: x\r\n${auth}\r\n`,
      404,
      "API_NOT_FOUND",
    ],
    [
      "a path outside the API",
      `GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n${auth}\r\n`,
      404,
      "API_NOT_FOUND",
    ],
    [
      "a bad percent-encoding",
      `GET /v1/sessions/%E0%A4%A HTTP/1.1\r\nHost: x\r\n${auth}\r\n`,
      404,
      "API_NOT_FOUND",
    ],
    [
      "a wrong method",
      `PUT /v1/status HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 0\r\n\r\n`,
      405,
      "API_METHOD_NOT_ALLOWED",
    ],
    [
      "no token",
      `GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n`,
      401,
      "API_UNAUTHORIZED",
    ],
    [
      "a huge declared body",
      `POST /v1/shutdown HTTP/1.1\r\nHost: x\r\nContent-Length: ${
        MAX_BODY_BYTES * 4
      }\r\n\r\n`,
      401,
      "API_UNAUTHORIZED",
    ],
    [
      "a very long path",
      `GET /v1/${"a".repeat(100_000)} HTTP/1.1\r\nHost: x\r\n${auth}\r\n`,
      "4xx",
    ],
    [
      "a header flood",
      `GET /v1/status HTTP/1.1\r\nHost: x\r\n${
        "X-A: b\r\n".repeat(20_000)
      }\r\n`,
      "4xx",
    ],
    ["garbage bytes", crypto.getRandomValues(new Uint8Array(4096)), "4xx"],
    ["not HTTP", "HELLO daemon\r\n\r\n", "4xx"],
    ["a bad request line", "GET\r\n\r\n", "4xx"],
    [
      "an authorized huge body",
      `POST /v1/sessions HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: ${
        MAX_BODY_BYTES * 2
      }\r\n\r\n${"[".repeat(MAX_BODY_BYTES * 2)}`,
      [404, 413],
    ],
    [
      "a JSON body that is not an object",
      `POST /v1/sessions HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 4\r\n\r\nnull`,
      [404, 400],
    ],
    [
      "a bad Content-Length",
      `POST /v1/sessions HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: -5\r\n\r\n`,
      "4xx",
    ],
    [
      "a bad chunked body",
      `POST /v1/sessions HTTP/1.1\r\nHost: x\r\n${auth}Transfer-Encoding: chunked\r\n\r\nZZ\r\nxx\r\n0\r\n\r\n`,
      "4xx|closed",
    ],
  ];
  for (const [what, bytes, status, code] of cases) {
    const answer = await raw(h, bytes);
    const got = statusLine(answer);
    const is4xx = got !== null && got >= 400 && got < 500;
    if (status === "4xx") assert.ok(is4xx, `${what}: ${got}`);
    else if (status === "4xx|closed") {
      assert.ok(got === null || is4xx, `${what}: ${got}`);
    } else if (Array.isArray(status)) {
      assert.ok(status.includes(got ?? 0), `${what}: ${got}`);
    } else {
      assert.equal(got, status, `${what}: ${answer.slice(0, 200)}`);
      if (code) assert.equal(errorCode(answer), code, what);
    }
    // Nothing of it disturbed the daemon.
    assert.equal((await client.call<StatusInfo>("status")).mode, "socket");
  }

  for (const c of hanging) c.close();
  // Connections closed half-way, in both directions.
  await raw(h, `GET /v1/status HTTP/1.1\r\nHost: x\r\n${auth}`, {
    closeWrite: true,
  });
  const conn = await Deno.connect({ transport: "unix", path: h.files.socket });
  conn.close();
  const full = await raw(
    h,
    `GET /v1/status HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`,
  );
  assert.equal(statusLine(full), 200);
  assert.equal((await client.call<StatusInfo>("status")).mode, "socket");
});
