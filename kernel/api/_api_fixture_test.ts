/**
 * A real kernel in a throwaway home served by the real API router, and an
 * {@linkcode ApiClient} talking to it in process (no socket). The session
 * hub records `reload()` calls and refuses everything else: the admin
 * routes under test never need sessions. No tests of its own.
 *
 * @module
 */
import {
  startTestKernel,
  type TestKernel,
} from "../../tests/test_kernel_test.ts";
import { KernelError } from "../core/errors.ts";
import { createApi } from "./api.ts";
import { ApiClient } from "./client.ts";
import type { SessionHub } from "./session_hub.ts";

/** What an admin API test works with. */
export interface ApiFixture extends AsyncDisposable {
  readonly tk: TestKernel;
  readonly client: ApiClient;
  /** How often `hub.reload()` was called. */
  readonly reloads: () => number;
}

/** The bearer token of the fixture's API. */
export const TOKEN = "test-token";

function hubOnlyReloads(counter: { n: number }): SessionHub {
  const no = (): never => {
    throw new KernelError("INTERNAL", "sessions are not part of this test");
  };
  return {
    list: no,
    create: no,
    get: no,
    delete: no,
    messages: no,
    prompt: no,
    cancel: no,
    events: no,
    approvals: no,
    answer: no,
    diff: no,
    commit: no,
    discard: no,
    tools: no,
    callTool: no,
    items: no,
    getItem: no,
    reload: () => {
      counter.n++;
      return Promise.resolve();
    },
    counts: () => Promise.resolve({ known: 0, live: 0 }),
    close: () => Promise.resolve(),
  };
}

/**
 * Boots a kernel and its API.
 *
 * @param options Temp dir prefix, extra user config TOML, `tempBase`.
 * @returns The fixture; dispose it to close the kernel and remove the dir.
 */
export async function startApiFixture(
  options: { prefix: string; config?: string; tempBase?: string },
): Promise<ApiFixture> {
  const tk = await startTestKernel({ ...options, fileStore: true });
  const counter = { n: 0 };
  const router = createApi({
    kernel: tk.kernel,
    hub: hubOnlyReloads(counter),
    mode: "socket",
    startedAt: Date.now(),
    idleTimeoutMs: null,
    engines: [],
    shutdown: () => {},
  });
  const client = new ApiClient(
    { handler: router.handler({ token: () => TOKEN }) },
    TOKEN,
  );
  return {
    tk,
    client,
    reloads: () => counter.n,
    async [Symbol.asyncDispose]() {
      client.close();
      await tk.kernel.close();
      await Deno.remove(tk.root, { recursive: true });
    },
  };
}
