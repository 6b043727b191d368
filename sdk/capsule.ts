/**
 * The capsule-author API for `js` capsules: declare the actions a capsule
 * answers with {@linkcode defineCapsule} and export the result as the module's
 * default export. The kernel bundles the capsule to one ESM file and runs it in
 * QuickJS; an action is called with its JSON payload and a
 * {@linkcode CapsuleContext}, and its (awaited) return value is sent back as
 * JSON.
 *
 * The contract with the engine (`kernel/capsule/engines/js`):
 * - the default export is the object `defineCapsule()` returns (marked with
 *   {@linkcode CAPSULE_KIND}); its `handlers` are looked up by own property;
 * - without such a default export, a named exported function whose name is the
 *   action is called instead;
 * - a handler's return value must be JSON (`undefined` becomes `null`);
 * - the guest has no `fetch`, `Deno`, `process`, timers or `console`: all host
 *   access goes through the one global binding named
 *   {@linkcode HOST_BINDING_NAME}, which `./host.ts` wraps;
 * - concurrency: with `[[component]] instances = 1` (the default) calls run
 *   one at a time; with `instances = N` (up to 16) up to N calls run at once,
 *   each in its own QuickJS instance made on demand. Module-level state
 *   (variables outside the handlers) is then per instance, and an instance
 *   is replaced, its state lost, after a memory stop or a crash: keep state
 *   that must be shared or kept in KV (`host.kv`).
 *
 * @module
 */
import { compileSpec, handlerMap, isSpec } from "./_spec.ts";
import type { CapsuleSpec } from "./spec.ts";

/** Marks the default export made by {@linkcode defineCapsule}. */
export const CAPSULE_KIND = "astrid.capsule/v1" as const;

/**
 * The name of the one global function the `js` engine injects into the guest:
 * `(fn: string, payloadJson: string) => Promise<string>` — a host call by
 * name with a JSON payload, resolving to the JSON result or rejecting with an
 * `Error` that carries a string `code`.
 */
export const HOST_BINDING_NAME = "__astrid_host" as const;

/**
 * The `Symbol.for()` name under which the `js` engine keeps, on a payload
 * object, the JSON text of its large fields until they are first read (the
 * engine sends them as text and parses one only when it is accessed); read
 * it with `rawJsonOf()`.
 */
export const RAW_JSON_KEY = "astrid.raw_json" as const;

/** What a handler learns about the call besides its payload. */
export interface CapsuleContext {
  /** The capsule's name (`[package] name`). */
  readonly capsule: string;
  /** The action being called. */
  readonly action: string;
  /** The capsule's non-secret configuration (`[env]` values). */
  readonly config: Readonly<Record<string, string>>;
}

/**
 * One action of a capsule: receives the parsed JSON payload and the context,
 * returns (or resolves to) a JSON-serialisable value.
 */
export type CapsuleHandler<P = unknown, R = unknown> = (
  payload: P,
  context: CapsuleContext,
) => R | Promise<R>;

/** The handlers of a capsule, keyed by action name. */
// deno-lint-ignore no-explicit-any
export type CapsuleHandlers = Readonly<Record<string, CapsuleHandler<any>>>;

/** What {@linkcode defineCapsule} returns; export it as the default export. */
export interface CapsuleDefinition<
  H extends CapsuleHandlers = CapsuleHandlers,
> {
  /** Always {@linkcode CAPSULE_KIND}. */
  readonly kind: typeof CAPSULE_KIND;
  /** The frozen handler map. */
  readonly handlers: H;
}

/**
 * Declares a capsule: either a plain map of actions, or a
 * {@linkcode CapsuleSpec} of tools, interceptors, commands and lifecycle
 * hooks from which the wire glue (the `tool.describe` / `tool.execute`
 * actions, `command.<name>` actions) is generated.
 *
 * State: module-level variables live in one QuickJS instance. A capsule whose
 * `[[component]]` sets `instances` above 1 runs its calls in several
 * instances at once (each with its own module state), so keep state shared
 * by calls in KV (`host.kv`), not in module variables.
 *
 * @param definition One function per action, or a {@linkcode CapsuleSpec}.
 * @returns A frozen {@linkcode CapsuleDefinition} to export as default.
 * @throws {TypeError} When a handler is not a function, a name is malformed,
 *   or two parts of a spec generate the same action.
 *
 * @example Define a capsule with two actions
 * ```ts
 * import { defineCapsule } from "./capsule.ts";
 * const capsule = defineCapsule({
 *   greet: (payload: { name: string }, ctx) => ({
 *     text: `Hello, ${payload.name}, from ${ctx.capsule}!`,
 *   }),
 *   ping: async () => "pong",
 * });
 * const reply = await capsule.handlers.greet({ name: "Ada" }, {
 *   capsule: "hello",
 *   action: "greet",
 *   config: {},
 * });
 * console.assert(reply.text === "Hello, Ada, from hello!");
 * // export default capsule;
 * ```
 *
 * @example Define a tool capsule
 * ```ts
 * import { defineCapsule } from "./capsule.ts";
 * const capsule = defineCapsule({
 *   tools: {
 *     shout: {
 *       description: "Upper-cases a text",
 *       input_schema: { type: "object", properties: { text: { type: "string" } } },
 *       execute: (args: { text: string }) => args.text.toUpperCase(),
 *     },
 *   },
 * });
 * const ctx = { capsule: "shouter", action: "tool.execute", config: {} };
 * const out = await capsule.handlers["tool.execute"]!({
 *   topic: "tool.v1.execute.shout", source: "router", principal: "default", session: "s",
 *   payload: { call_id: "c1", name: "shout", arguments: { text: "hi" }, session_id: "s" },
 * }, ctx) as { type: string; payload: { content: string; is_error: boolean } };
 * console.assert(out.type === "final" && out.payload.content === "HI");
 * // export default capsule;
 * ```
 */
export function defineCapsule<H extends CapsuleHandlers>(
  definition: H | CapsuleSpec,
): CapsuleDefinition<H> {
  if (definition === null || typeof definition !== "object") {
    throw new TypeError("defineCapsule() expects an object of handlers");
  }
  const handlers = isSpec(definition)
    ? compileSpec(definition)
    : handlerMap(definition as CapsuleHandlers);
  return Object.freeze({
    kind: CAPSULE_KIND,
    handlers: Object.freeze(handlers) as unknown as H,
  });
}
