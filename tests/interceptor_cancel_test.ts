/**
 * End to end, on a REAL kernel with installed `js` capsules
 * (`tests/fixtures/capsules/js-relay-*`, `js-reenter`): a kernel request
 * cancelled by its caller cancels the capsule interceptor calls it caused —
 * also the one reached through a host `ipc_request` — and a capsule with
 * `[[component]] instances = 2` can re-enter itself through the bus.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { KernelError } from "../kernel/core/errors.ts";
import type { CapsuleId } from "../kernel/core/ids.ts";
import type { JsonValue } from "../kernel/store/store.ts";
import type { BusSource, Interceptor } from "../kernel/bus/envelope.ts";
import type { InterceptOptions } from "../kernel/bus/bus_types.ts";
import { installCapsule } from "../kernel/daemon/install.ts";
import { type Runtime, startRuntime } from "../kernel/daemon/runtime.ts";
import { startTestKernel, type TestKernel } from "./test_kernel_test.ts";

const FIXTURES = path.resolve(
  import.meta.dirname ?? ".",
  "fixtures/capsules",
);
const PERMS: Deno.PermissionOptionsObject = {
  read: true,
  write: true,
  env: true,
  run: true,
};

/** How one capsule interceptor call (one capsule `invoke`) ended. */
interface CallEnd {
  readonly capsule: BusSource;
  readonly topic: string;
  readonly code: string;
  readonly ms: number;
}

interface Fixture extends AsyncDisposable {
  readonly tk: TestKernel;
  readonly runtime: Runtime;
  /** Ends of capsule interceptor calls, in the order they ended. */
  readonly ends: CallEnd[];
  request(
    topic: string,
    payload: JsonValue,
    signal?: AbortSignal,
  ): Promise<JsonValue>;
}

/**
 * Boots a kernel with the fixture capsules `names` (bundled and installed as
 * `astrid capsule install` does). Every capsule interceptor the registry
 * wires is wrapped to record how its capsule call ended (`ok` or the error
 * code), since the bus only tells the publisher.
 */
async function boot(names: readonly string[]): Promise<Fixture> {
  const tk = await startTestKernel({ prefix: "astrid-intercept-cancel-" });
  let runtime: Runtime | undefined;
  const close = async () => {
    try {
      await runtime?.close();
      await tk.kernel.close();
    } finally {
      await Deno.remove(tk.root, { recursive: true });
    }
  };
  try {
    for (const name of names) {
      const source = path.join(FIXTURES, name);
      await installCapsule(tk.kernel, {
        source,
        bundle: { entry: path.join(source, "main.ts") },
      });
    }
    runtime = await startRuntime(tk.kernel, {
      workspace: tk.workspace,
      limits: { timeoutMs: 5_000, memoryBytes: 64 * 1024 * 1024 },
      bubblewrap: null,
    });
    const ends: CallEnd[] = [];
    const bus = runtime.bus;
    const intercept = bus.intercept.bind(bus);
    bus.intercept = (owner: BusSource, o: InterceptOptions) =>
      intercept(owner, { ...o, handler: recorded(owner, o.handler, ends) });
    const report = await runtime.boot();
    assert.deepEqual(report.refused, []);
    const rt = runtime;
    return {
      tk,
      runtime: rt,
      ends,
      request: (topic, payload, signal) =>
        rt.bus.request("kernel", {
          topic,
          payload,
          principal: tk.kernel.principal,
          session: rt.session,
        }, { timeoutMs: 30_000, ...(signal ? { signal } : {}) }),
      [Symbol.asyncDispose]: close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

function recorded(
  capsule: BusSource,
  handler: Interceptor,
  ends: CallEnd[],
): Interceptor {
  return async (env, options) => {
    const started = performance.now();
    const end = (code: string) =>
      ends.push({
        capsule,
        topic: env.topic,
        code,
        ms: performance.now() - started,
      });
    try {
      const result = await handler(env, options);
      end("ok");
      return result;
    } catch (err) {
      end(KernelError.is(err) ? err.code : String(err));
      throw err;
    }
  };
}

async function until(what: string, test: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test({
  name:
    "a cancelled kernel request aborts the interceptor call of a js capsule and the call of a second capsule it waits on through ipc_request; both capsules serve again",
  permissions: PERMS,
  async fn() {
    await using f = await boot(["js-relay-front", "js-relay-back"]);
    // Nobody answers the back capsule's request: it waits until cancelled.
    let stalled = 0;
    const stop = f.runtime.bus.subscribe("kernel", {
      pattern: "test.v1.stall",
      handler: () => void stalled++,
    });
    try {
      // The relay works.
      assert.deepEqual(await f.request("test.v1.front", { n: 1 }), {
        via: "front",
        reply: { via: "back", echo: { n: 1 } },
      });
      f.ends.length = 0;

      const cancel = new AbortController();
      const answer = f.request("test.v1.front", { stall: true }, cancel.signal);
      await until("the back capsule's request", () => stalled === 1);
      assert.equal(f.runtime.bus.stats().pendingRequests, 1);
      const abortedAt = performance.now();
      cancel.abort(new Error("the user pressed stop"));
      const err = await answer.then(
        () => assert.fail("the request should be cancelled"),
        (e: unknown) => e,
      );
      assert.ok(KernelError.is(err, "ABORTED"), String(err));
      await until("both capsule calls end", () => f.ends.length === 2);
      const took = performance.now() - abortedAt;
      assert.ok(took < 1_000, `took ${took} ms`);
      assert.deepEqual(
        f.ends.map((e) => [e.capsule, e.topic, e.code]).sort(),
        [
          ["relay-back", "test.v1.back", "ABORTED"],
          ["relay-front", "test.v1.front", "ABORTED"],
        ],
      );
      // The back capsule's own request was cancelled with its call.
      await until(
        "no request left open",
        () => f.runtime.bus.stats().pendingRequests === 0,
      );

      // Neither capsule's (single) instance is wedged.
      const started = performance.now();
      assert.deepEqual(await f.request("test.v1.back", { n: 2 }), {
        via: "back",
        echo: { n: 2 },
      });
      assert.deepEqual(await f.request("test.v1.front", { n: 3 }), {
        via: "front",
        reply: { via: "back", echo: { n: 3 } },
      });
      assert.ok(performance.now() - started < 5_000);
      assert.equal(
        f.runtime.registry.health("relay-back" as CapsuleId)?.status,
        "ok",
      );
    } finally {
      stop();
    }
  },
});

Deno.test({
  name:
    "a js capsule with `[[component]] instances = 2` answers a request whose interceptor call re-enters the capsule through the bus",
  permissions: PERMS,
  async fn() {
    await using f = await boot(["js-reenter"]);
    assert.deepEqual(await f.request("test.v1.self.outer", "hi"), {
      outer: { inner: "hi" },
    });
    assert.deepEqual(
      f.ends.map((e) => [e.topic, e.code]),
      [["test.v1.self.inner", "ok"], ["test.v1.self.outer", "ok"]],
    );
  },
});
