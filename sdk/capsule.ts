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
 *   {@linkcode HOST_BINDING_NAME}, which `./host.ts` wraps.
 *
 * @module
 */

/** Marks the default export made by {@linkcode defineCapsule}. */
export const CAPSULE_KIND = "astrid.capsule/v1" as const;

/**
 * The name of the one global function the `js` engine injects into the guest:
 * `(fn: string, payloadJson: string) => Promise<string>` — a host call by
 * name with a JSON payload, resolving to the JSON result or rejecting with an
 * `Error` that carries a string `code`.
 */
export const HOST_BINDING_NAME = "__astrid_host" as const;

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

const ACTION_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/;

/**
 * Declares the actions of a capsule.
 *
 * @param handlers One function per action. Names are 1–128 characters of
 *   letters, digits, `_`, `.`, `:` and `-`, starting with a letter or `_`.
 * @returns A frozen {@linkcode CapsuleDefinition} to export as default.
 * @throws {TypeError} When a handler is not a function or a name is malformed.
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
 */
export function defineCapsule<H extends CapsuleHandlers>(
  handlers: H,
): CapsuleDefinition<H> {
  if (handlers === null || typeof handlers !== "object") {
    throw new TypeError("defineCapsule() expects an object of handlers");
  }
  const copy: Record<string, CapsuleHandler> = Object.create(null);
  for (const name of Object.keys(handlers)) {
    const handler = handlers[name];
    if (!ACTION_NAME.test(name)) {
      throw new TypeError(
        `Cannot define action '${name}': names are 1-128 of [A-Za-z0-9_.:-], starting with a letter or '_'`,
      );
    }
    if (typeof handler !== "function") {
      throw new TypeError(
        `Cannot define action '${name}': its handler is a ${typeof handler}, not a function`,
      );
    }
    copy[name] = handler;
  }
  return Object.freeze({
    kind: CAPSULE_KIND,
    handlers: Object.freeze(copy) as unknown as H,
  });
}
