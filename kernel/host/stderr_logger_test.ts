import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { createStderrLogger, type LogWriter } from "./stderr_logger.ts";

/** Captures written bytes; writes at most `chunk` bytes per call, like a short write. */
class CaptureWriter implements LogWriter {
  readonly #chunks: Uint8Array[] = [];
  readonly #chunk: number;
  constructor(chunk = Infinity) {
    this.#chunk = chunk;
  }
  writeSync(p: Uint8Array): number {
    const n = Math.min(p.length, this.#chunk);
    this.#chunks.push(p.slice(0, n));
    return n;
  }
  get text(): string {
    return new TextDecoder().decode(
      new Uint8Array(this.#chunks.flatMap((c) => [...c])),
    );
  }
}

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 6);

Deno.test({
  name:
    "`createStderrLogger()` json writes one object per line with merged child fields",
  permissions: "none",
  fn() {
    const writer = new CaptureWriter(7);
    const log = createStderrLogger({
      format: "json",
      level: "debug",
      clock: new FakeClock(T0),
      writer,
    });
    const child = log.child({ component: "bus", capsule: "a" });
    child.log("info", "started", { capsule: "b", n: 1n });
    log.log("debug", "plain");
    const lines = writer.text.split("\n");
    assert.equal(lines.pop(), "");
    assert.deepEqual(lines.map((l) => JSON.parse(l)), [
      {
        component: "bus",
        capsule: "b",
        n: "1",
        time: "2026-01-02T03:04:05.006Z",
        level: "info",
        msg: "started",
      },
      { time: "2026-01-02T03:04:05.006Z", level: "debug", msg: "plain" },
    ]);
  },
});

Deno.test({
  name: "`createStderrLogger()` drops records below the level",
  permissions: "none",
  fn() {
    const writer = new CaptureWriter();
    const log = createStderrLogger({
      format: "json",
      level: "warn",
      clock: new FakeClock(T0),
      writer,
    });
    log.log("debug", "a");
    log.log("info", "b");
    log.log("warn", "c");
    log.child({}).log("error", "d");
    assert.deepEqual(
      writer.text.trim().split("\n").map((l) => JSON.parse(l).msg),
      ["c", "d"],
    );
  },
});

Deno.test({
  name:
    "`createStderrLogger()` json: a field cannot override time, level or msg",
  permissions: "none",
  fn() {
    const writer = new CaptureWriter();
    const log = createStderrLogger({
      format: "json",
      clock: new FakeClock(T0),
      writer,
    });
    log.log("info", "real", {
      level: "error",
      msg: "forged",
      time: "yesterday",
    });
    const rec = JSON.parse(writer.text);
    assert.deepEqual([rec.level, rec.msg, rec.time], [
      "info",
      "real",
      "2026-01-02T03:04:05.006Z",
    ]);
  },
});

Deno.test({
  name:
    "`createStderrLogger()` pretty: a newline in a message or field cannot forge a second line",
  permissions: "none",
  fn() {
    const writer = new CaptureWriter();
    const log = createStderrLogger({
      format: "pretty",
      clock: new FakeClock(T0),
      writer,
    });
    log.log("warn", "bad\n2026-01-01T00:00:00.000Z ERROR forged", {
      "k\ney": "v\r\nx",
      plain: "ok",
      n: 3,
    });
    assert.equal(
      writer.text,
      '2026-01-02T03:04:05.006Z WARN  bad\\n2026-01-01T00:00:00.000Z ERROR forged k\\ney="v\\r\\nx" plain=ok n=3\n',
    );
  },
});

Deno.test({
  name:
    "`createStderrLogger()` renders errors, cycles, bytes and deep values safely",
  permissions: "none",
  fn() {
    const writer = new CaptureWriter();
    const log = createStderrLogger({
      format: "json",
      clock: new FakeClock(T0),
      writer,
    });
    const cyclic: Record<string, unknown> = { name: "c" };
    cyclic.self = cyclic;
    const shared = { x: 1 };
    log.log("error", "x", {
      err: new KernelError("HOST_IO", "disk full"),
      cyclic,
      pair: [shared, shared],
      bytes: new Uint8Array(4),
      deep: { a: { b: { c: { d: { e: { f: { g: 1 } } } } } } },
      inf: Infinity,
    });
    const rec = JSON.parse(writer.text);
    assert.deepEqual(rec.err, {
      name: "KernelError",
      message: "disk full",
      code: "HOST_IO",
    });
    assert.deepEqual(rec.cyclic, { name: "c", self: "[Circular]" });
    assert.deepEqual(rec.pair, [{ x: 1 }, { x: 1 }]);
    assert.equal(rec.bytes, "[4 bytes]");
    assert.deepEqual(rec.deep, {
      a: { b: { c: { d: { e: "[Truncated]" } } } },
    });
    assert.equal(rec.inf, "Infinity");
  },
});

Deno.test({
  name:
    "`createStderrLogger()` rejects unknown options and a writer that accepts nothing",
  permissions: "none",
  fn() {
    assert.throws(
      () => createStderrLogger({ level: "loud" as never }),
      RangeError,
    );
    assert.throws(
      () => createStderrLogger({ format: "xml" as never }),
      RangeError,
    );
    const log = createStderrLogger({
      clock: new FakeClock(T0),
      writer: { writeSync: () => 0 },
    });
    assert.throws(
      () => log.log("error", "x"),
      (e) => KernelError.is(e, "HOST_IO"),
    );
  },
});

Deno.test({
  name: "`createStderrLogger()` writes to the real stderr by default",
  permissions: { run: true, read: true },
  async fn() {
    const url = new URL("./stderr_logger.ts", import.meta.url).href;
    const code = `import { createStderrLogger } from "${url}";
      createStderrLogger({ format: "json" }).child({ a: 1 }).log("warn", "hello");`;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-check", code],
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    const lines = new TextDecoder().decode(out.stderr).split("\n").filter((l) =>
      l.startsWith("{")
    );
    assert.equal(out.code, 0);
    assert.equal(lines.length, 1);
    const rec = JSON.parse(lines[0]!);
    assert.deepEqual([rec.a, rec.level, rec.msg], [1, "warn", "hello"]);
    assert.equal(new TextDecoder().decode(out.stdout), "");
  },
});
