/**
 * The daemon's session API in-process, for tests: the real router with the
 * session routes, the real session hub on a real kernel (file store) with
 * the real capsules installed, reached through `ApiClient`s.
 *
 * @module
 */
import * as path from "node:path";
import { ApiClient } from "../kernel/api/client.ts";
import type { ApprovalInfo, SessionInfo } from "../kernel/api/contract.ts";
import { Router } from "../kernel/api/router.ts";
import { sessionRoutes } from "../kernel/api/routes_sessions.ts";
import { toolRoutes } from "../kernel/api/routes_tools.ts";
import type { SessionHub } from "../kernel/api/session_hub.ts";
import { type KernelHandle, startKernel } from "../kernel/daemon/boot.ts";
import {
  createSessionHub,
  type SessionHubOptions,
} from "../kernel/turn/session_hub.ts";
import { MemoryEnv } from "../kernel/testing/memory_env.ts";
import { AGENT_PERMS, installAgentCapsules } from "./agent_fixture_test.ts";
import { startTestKernel, type TestKernel } from "./test_kernel_test.ts";

/** The scripted orchestrator (`hello`, `approve`, `fail`). */
export const PROBE = path.resolve(
  import.meta.dirname ?? ".",
  "fixtures/capsules/turn-probe",
);
/** A replayed turn that writes b.txt and c.txt, then answers. */
export const WRITE_B_AND_C = {
  turns: [
    {
      text: "Writing.",
      tool_calls: [
        { name: "write_file", arguments: { path: "b.txt", content: "beta\n" } },
        {
          name: "write_file",
          arguments: { path: "c.txt", content: "gamma\n" },
        },
      ],
    },
    { text: "Done." },
  ],
};

/** The real agent capsules a replayed turn needs. */
export const AGENT = [
  "provider-replay",
  "react",
  "session",
  "identity",
  "router",
  "fs",
];

/** A kernel, its session hub and clients of its API. */
export interface ApiFixture extends AsyncDisposable {
  readonly tk: TestKernel;
  readonly kernel: KernelHandle;
  readonly hub: SessionHub;
  /** A new client of the current hub (each is "another client"), optionally from a TCP peer. */
  client(remoteAddress?: string): ApiClient;
  /** Sends a raw request to the API (any headers, e.g. no token). */
  fetch(request: Request): Promise<Response>;
  /** Closes hub and kernel and starts both again on the same home. */
  restart(): Promise<void>;
}

/**
 * Starts a kernel in a throwaway home with the capsules installed and a hub
 * whose root is the temp dir.
 *
 * @param options Prefix, capsules, user config, the daemon's environment.
 * @returns The fixture; dispose it.
 */
export async function startApi(options: {
  prefix: string;
  capsules: readonly string[];
  config?: string;
  /** The workspace mode (default `autonomous`). */
  mode?: "safe" | "guided" | "autonomous" | "yolo";
  env?: Record<string, string>;
  /** A replay transcript (`{ turns: [...] }`): written beside the home, the replay provider in use. */
  replay?: unknown;
  /** The node's bus bridged to a cluster (the hub's `cluster` option). */
  cluster?: SessionHubOptions["cluster"];
  /** The kernel's environment (e.g. `ASTRID_STORE_URL`). */
  kernelEnv?: Record<string, string>;
}): Promise<ApiFixture> {
  const tk = await startTestKernel({
    prefix: options.prefix,
    fileStore: true,
    ...(options.kernelEnv ? { env: options.kernelEnv } : {}),
    ...(options.config ? { config: options.config } : {}),
    ...(options.mode ? { mode: options.mode } : {}),
  });
  const env = { ...options.env };
  if (options.replay !== undefined) {
    const file = path.join(tk.root, "replay.json");
    await Deno.writeTextFile(file, JSON.stringify(options.replay));
    env["ASTRID_PROVIDER"] = "replay";
    env["ASTRID_REPLAY_FILE"] = file;
  }
  let kernel = tk.kernel;
  let hub: SessionHub;
  let handler: ReturnType<Router["handler"]>;
  const open = async () => {
    hub = await createSessionHub(kernel, {
      roots: [tk.root],
      env: new MemoryEnv(env),
      mcpAvailable: false,
      ...(options.cluster ? { cluster: options.cluster } : {}),
    });
    const router = new Router();
    const deps = {
      kernel,
      hub,
      mode: "socket",
      startedAt: 0,
      idleTimeoutMs: null,
      engines: [],
      shutdown: () => {},
    } as const;
    sessionRoutes(router, deps);
    toolRoutes(router, deps);
    handler = router.handler({ token: () => "t" });
  };
  try {
    await installAgentCapsules(kernel, options.capsules);
    await open();
  } catch (err) {
    await kernel.close().catch(() => {});
    await Deno.remove(tk.root, { recursive: true }).catch(() => {});
    throw err;
  }
  const close = async () => {
    await hub.close();
    await kernel.close();
    await Deno.remove(tk.root, { recursive: true }).catch(() => {});
  };
  return {
    tk,
    get kernel() {
      return kernel;
    },
    get hub() {
      return hub;
    },
    fetch: (request) => handler(request, {}),
    client: (remote) =>
      new ApiClient({
        handler: (r) =>
          handler(
            r,
            remote
              ? { remoteAddr: { transport: "tcp", hostname: remote } }
              : {},
          ),
      }, "t"),
    async restart() {
      await hub.close();
      await kernel.close();
      kernel = await startKernel({
        env: new MemoryEnv({ ASTRID_HOME: tk.home, HOME: tk.root }),
        workspace: tk.workspace,
        ignoreSystemConfig: true,
        logger: tk.logger,
      });
      await open();
    },
    [Symbol.asyncDispose]: close,
  };
}

/**
 * Declares a test of the API with the agent tests' permissions.
 *
 * @param name The behaviour.
 * @param fn The test.
 */
export function apiTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, permissions: AGENT_PERMS, fn });
}

/** The error code a promise rejects with (`resolved` when it does not). */
export async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  return "resolved";
}

/** Creates a session in a workspace. */
export async function newSession(c: ApiClient, workspace: string) {
  return await c.call<SessionInfo>("sessionsCreate", { body: { workspace } });
}

/** Answers the first pending approval of a session from `c`, polling. */
export async function answerFirst(
  c: ApiClient,
  session: string,
  decision: string,
): Promise<ApprovalInfo> {
  for (let i = 0; i < 500; i++) {
    const list = await c.call<ApprovalInfo[]>("approvalsList", {
      query: { session },
    });
    const first = list.find((a) => a.kind === "pending");
    if (first) {
      await c.call("approvalsAnswer", {
        params: { id: first.request_id },
        body: { decision, reason: "checked" },
      });
      return first;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("no approval request arrived");
}
