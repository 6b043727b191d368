/**
 * Compiles a {@linkcode CapsuleSpec} to the action map the engine calls.
 *
 * @module
 */
import type { CapsuleContext, CapsuleHandler } from "./capsule.ts";
import type { CapsuleSpec, InterceptEvent, ToolSpec } from "./spec.ts";
import type { ToolDefinition } from "./llm.ts";
import type { ToolExecuteRequest, ToolExecuteResult } from "./agent.ts";
import { isToolName } from "./agent.ts";

const SPEC_KEYS = new Set([
  "actions",
  "tools",
  "interceptors",
  "commands",
  "install",
  "upgrade",
]);
const ACTION_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/;

/**
 * Whether a definition is a {@linkcode CapsuleSpec}: every key is a spec key
 * and at least one of `actions`, `tools`, `interceptors`, `commands` is an
 * object (a plain handler map has functions only).
 */
export function isSpec(definition: object): definition is CapsuleSpec {
  const keys = Object.keys(definition);
  if (keys.length === 0 || !keys.every((k) => SPEC_KEYS.has(k))) return false;
  const d = definition as Record<string, unknown>;
  return ["actions", "tools", "interceptors", "commands"].some((k) =>
    d[k] !== null && typeof d[k] === "object"
  );
}

function add(
  out: Record<string, CapsuleHandler>,
  name: string,
  handler: unknown,
  from: string,
): void {
  if (!ACTION_NAME.test(name)) {
    throw new TypeError(
      `Cannot define action '${name}' (${from}): names are 1-128 of [A-Za-z0-9_.:-], starting with a letter or '_'`,
    );
  }
  if (typeof handler !== "function") {
    throw new TypeError(
      `Cannot define action '${name}' (${from}): its handler is a ${typeof handler}, not a function`,
    );
  }
  if (Object.hasOwn(out, name)) {
    throw new TypeError(
      `Cannot define action '${name}' twice (${from} generates it again)`,
    );
  }
  out[name] = handler as CapsuleHandler;
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === "string" ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

function toolHandlers(
  // deno-lint-ignore no-explicit-any
  tools: Readonly<Record<string, ToolSpec<any>>>,
): { describe: CapsuleHandler; execute: CapsuleHandler } {
  const defs: ToolDefinition[] = [];
  for (const [name, spec] of Object.entries(tools)) {
    if (!isToolName(name)) {
      throw new TypeError(
        `Cannot define tool '${name}': names are 1-64 of [A-Za-z0-9_:-] (no dots)`,
      );
    }
    if (typeof spec?.execute !== "function") {
      throw new TypeError(
        `Cannot define tool '${name}': execute is not a function`,
      );
    }
    defs.push({
      name,
      description: String(spec.description ?? ""),
      input_schema: spec.input_schema ?? { type: "object" },
    });
  }
  const describe = (event: InterceptEvent<{ tools?: unknown }>) => {
    const before = Array.isArray(event?.payload?.tools)
      ? event.payload.tools as ToolDefinition[]
      : [];
    const seen = new Set(before.map((t) => t?.name));
    return {
      type: "continue",
      payload: {
        ...(event?.payload ?? {}),
        tools: [...before, ...defs.filter((d) => !seen.has(d.name))],
      },
    };
  };
  const execute = async (
    event: InterceptEvent<ToolExecuteRequest>,
    context: CapsuleContext,
  ) => {
    const req = event?.payload;
    const callId = typeof req?.call_id === "string" ? req.call_id : "";
    const answer = (content: string, isError: boolean) => ({
      type: "final",
      payload: {
        call_id: callId,
        content,
        is_error: isError,
      } satisfies ToolExecuteResult,
    });
    const spec = typeof req?.name === "string" && Object.hasOwn(tools, req.name)
      ? tools[req.name]
      : undefined;
    if (spec === undefined) {
      return answer(`Unknown tool '${String(req?.name)}'`, true);
    }
    const args = req.arguments !== null && typeof req.arguments === "object" &&
        !Array.isArray(req.arguments)
      ? req.arguments
      : {};
    try {
      const value = await spec.execute(args, context);
      return answer(
        typeof value === "string" ? value : JSON.stringify(value ?? null),
        false,
      );
    } catch (err) {
      return answer(errorText(err), true);
    }
  };
  return {
    describe: describe as CapsuleHandler,
    execute: execute as CapsuleHandler,
  };
}

/** Copies a plain handler map, checking every name and handler. */
export function handlerMap(
  handlers: Readonly<Record<string, unknown>>,
): Record<string, CapsuleHandler> {
  const out: Record<string, CapsuleHandler> = Object.create(null);
  for (const name of Object.keys(handlers)) {
    add(out, name, handlers[name], "actions");
  }
  return out;
}

/** Compiles a spec to its action map. */
export function compileSpec(spec: CapsuleSpec): Record<string, CapsuleHandler> {
  const out: Record<string, CapsuleHandler> = Object.create(null);
  for (const [name, h] of Object.entries(spec.actions ?? {})) {
    add(out, name, h, "actions");
  }
  for (const [name, h] of Object.entries(spec.interceptors ?? {})) {
    add(out, name, h, "interceptors");
  }
  for (const [name, h] of Object.entries(spec.commands ?? {})) {
    add(out, `command.${name}`, h, "commands");
  }
  if (spec.tools && Object.keys(spec.tools).length > 0) {
    const t = toolHandlers(spec.tools);
    add(out, "tool.describe", t.describe, "tools");
    add(out, "tool.execute", t.execute, "tools");
  }
  if (spec.install !== undefined) add(out, "install", spec.install, "install");
  if (spec.upgrade !== undefined) add(out, "upgrade", spec.upgrade, "upgrade");
  return out;
}
