/**
 * Shared set-up of the provider capsule tests
 * (`capsules/provider-<name>/*_test.ts`): a loopback `Deno.serve` server
 * whose answers each test scripts in the API's exact wire format, and a
 * real kernel (`startAgentFixture`) that reaches it. The capsule keeps its
 * least-privilege manifest (`net` = the real API host): the runtime's
 * `fetch` port sends the API host's requests to the loopback server and
 * `resolveDns` answers a public address, so the gate and the SSRF check
 * judge the real host name exactly as in production.
 *
 * @module
 */
import type { LlmRequest, LlmStreamMessage } from "../sdk/llm.ts";
import type { BusEnvelope } from "../kernel/bus/envelope.ts";
import {
  type AgentFixture,
  type AgentFixtureOptions,
  startAgentFixture,
} from "./agent_fixture_test.ts";

/** What the provider tests need from Deno. */
export const PROVIDER_PERMS: Deno.PermissionOptionsObject = {
  read: true,
  write: true,
  env: true,
  run: true,
  net: true,
};

/** One request the server received. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

/** How the server answers one request. */
export interface ScriptedAnswer {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  /**
   * Body pieces, each written as its own network chunk; a function piece is
   * awaited before the next write (hold the connection open).
   */
  readonly pieces: readonly (string | (() => Promise<void>))[];
  /** End the body by failing the connection instead of closing it. */
  readonly abort?: boolean;
}

/** A scripted loopback API server. */
export interface ScriptedServer extends AsyncDisposable {
  readonly base: string;
  readonly seen: SeenRequest[];
  /** Resolves once a response body was cancelled by the client. */
  readonly cancelled: Promise<void>;
  /** Queues answers, used in order (once used up, the last one repeats). */
  answer(...answers: ScriptedAnswer[]): void;
}

/**
 * Starts a loopback server answering from a script.
 *
 * @returns The server; dispose to shut it down.
 */
export function scriptedServer(): ScriptedServer {
  const seen: SeenRequest[] = [];
  const queue: ScriptedAnswer[] = [];
  let last: ScriptedAnswer | undefined;
  let onCancel!: () => void;
  const cancelled = new Promise<void>((r) => onCancel = r);
  const enc = new TextEncoder();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      const text = await req.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // silent-ok: kept as text
      }
      seen.push({
        method: req.method,
        path: new URL(req.url).pathname,
        headers: Object.fromEntries(req.headers),
        body,
      });
      const a = queue.shift() ?? last ??
        { status: 500, pieces: ["no answer scripted"] };
      last = a;
      const stream = new ReadableStream<Uint8Array>({
        async start(c) {
          for (const piece of a.pieces) {
            if (typeof piece === "function") await piece();
            else c.enqueue(enc.encode(piece));
          }
          if (a.abort) c.error(new Error("connection cut"));
          else c.close();
        },
        cancel() {
          onCancel();
        },
      });
      return new Response(stream, {
        status: a.status ?? 200,
        headers: a.headers ?? {},
      });
    },
  );
  return {
    base: `http://127.0.0.1:${server.addr.port}`,
    seen,
    cancelled,
    answer: (...answers) => queue.push(...answers),
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/**
 * Boots a kernel with one provider capsule whose API host is routed to
 * `server`.
 *
 * @param capsule The capsule directory name.
 * @param server The loopback server.
 * @param options The API origin the capsule calls, its secrets, config.
 * @returns The fixture.
 */
export function startProviderFixture(
  capsule: string,
  server: ScriptedServer,
  options: {
    apiOrigin: string;
    secrets?: Record<string, string>;
    config?: string;
    /** The first N connections fail (as a refused connection does). */
    connectFailures?: number;
  },
): Promise<AgentFixture> {
  let failures = options.connectFailures ?? 0;
  const route: typeof fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (!url.startsWith(options.apiOrigin)) {
      return Promise.reject(new TypeError(`unexpected fetch of ${url}`));
    }
    if (failures > 0) {
      failures--;
      return Promise.reject(new TypeError("error sending request: refused"));
    }
    return fetch(server.base + url.slice(options.apiOrigin.length), init);
  };
  const o: AgentFixtureOptions = {
    prefix: `astrid-${capsule}-`,
    capsules: [capsule],
    ...(options.secrets ? { secrets: { [capsule]: options.secrets } } : {}),
    ...(options.config ? { config: options.config } : {}),
    runtime: {
      fetch: route,
      resolveDns: () => Promise.resolve(["93.184.216.34"]),
    },
  };
  return startAgentFixture(o);
}

/** A request as an orchestrator sends it. */
export function llmRequest(overrides: Partial<LlmRequest> = {}): LlmRequest {
  return {
    request_id: "req-1",
    session_id: "sess-1",
    model: "",
    system: "Be brief.",
    messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }],
    tools: [],
    ...overrides,
  };
}

/** The stream events seen so far, in order. */
export function eventsOf(seen: BusEnvelope[]): LlmStreamMessage["event"][] {
  return seen.map((e) => (e.payload as unknown as LlmStreamMessage).event);
}

/**
 * A piece that holds the connection until `predicate` holds, re-checking
 * whenever a message arrives on `seen` (polled on the bus's own delivery,
 * bounded).
 */
export function until(
  predicate: () => boolean,
  what: string,
): () => Promise<void> {
  return async () => {
    for (let i = 0; i < 2_000 && !predicate(); i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    if (!predicate()) throw new Error(`timed out waiting for ${what}`);
  };
}
