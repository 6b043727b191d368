/**
 * The structured form of {@linkcode defineCapsule}: tools, interceptors,
 * commands and lifecycle hooks, from which the SDK generates the actions the
 * kernel calls. The capsule's `Capsule.toml` routes bus topics to them:
 *
 * ```toml
 * [[interceptor]]            # offer the tools to the model
 * event = "tool.v1.request.describe"
 * action = "tool.describe"
 * [[interceptor]]            # one per tool
 * event = "tool.v1.execute.read_file"
 * action = "tool.execute"
 * ```
 *
 * @module
 */
import type { CapsuleContext, CapsuleHandler } from "./capsule.ts";

/** What an interceptor action receives: the bus message it intercepted. */
export interface InterceptEvent<P = unknown> {
  /** The concrete topic. */
  readonly topic: string;
  /** Who published: a capsule id or `kernel`. */
  readonly source: string;
  /** The payload. */
  readonly payload: P;
  /** The principal of the publisher. */
  readonly principal: string;
  /** The session, or `null`. */
  readonly session: string | null;
}

/**
 * What an interceptor returns: `continue` (optionally replacing the payload),
 * `final` (stop the chain, answer the publisher), `deny`; `null` = continue
 * unchanged.
 */
export type InterceptReturn =
  | { readonly type: "continue"; readonly payload?: unknown }
  | { readonly type: "final"; readonly payload: unknown }
  | { readonly type: "deny"; readonly reason: string }
  | null;

/** An interceptor action. */
export type InterceptHandler<P = unknown> = (
  event: InterceptEvent<P>,
  context: CapsuleContext,
) => InterceptReturn | Promise<InterceptReturn>;

/** One tool: its definition for the model and its implementation. */
export interface ToolSpec<A = Record<string, unknown>> {
  /** What the tool does, for the model. */
  readonly description: string;
  /** A JSON Schema object of the arguments. */
  readonly input_schema: Readonly<Record<string, unknown>>;
  /**
   * Runs the tool. A returned string is the result text; any other value is
   * sent as JSON. A thrown error becomes an `is_error` result with its
   * message (a `HostCallError` with its code), which the model sees.
   */
  readonly execute: (args: A, context: CapsuleContext) => unknown;
}

/** The structured definition of a capsule. */
export interface CapsuleSpec {
  /** Plain actions, by name. */
  // deno-lint-ignore no-explicit-any
  readonly actions?: Readonly<Record<string, CapsuleHandler<any>>>;
  /** Tools, by name (1–64 of `[A-Za-z0-9_:-]`): generates `tool.describe` and `tool.execute`. */
  // deno-lint-ignore no-explicit-any
  readonly tools?: Readonly<Record<string, ToolSpec<any>>>;
  /** Interceptor actions, by the action name `Capsule.toml` routes to. */
  // deno-lint-ignore no-explicit-any
  readonly interceptors?: Readonly<Record<string, InterceptHandler<any>>>;
  /** Slash commands, by name: generates `command.<name>` actions taking `{args}`. */
  readonly commands?: Readonly<
    Record<string, CapsuleHandler<{ args: string }>>
  >;
  /** Lifecycle hook run once when the capsule is installed: action `install`. */
  readonly install?: CapsuleHandler;
  /** Lifecycle hook run when the capsule is upgraded: action `upgrade` (payload `{from}`). */
  readonly upgrade?: CapsuleHandler<{ from: string }>;
}
