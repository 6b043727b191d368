/**
 * The remaining host calls: config, secrets (existence only), log, clock,
 * identity, approval, elicit, and the bus.
 *
 * @module
 */
import { HOST_LIMITS } from "../../sdk/host_abi.ts";
import { KernelError } from "../core/errors.ts";
import type { LogLevel } from "../core/ports.ts";
import type { JsonValue } from "../store/store.ts";
import type { Action } from "../security/action.ts";
import { Params } from "./_params.ts";
import type { HostCall } from "./host_call.ts";

/** The longest deadline of one `ipc_request`: 30 minutes. */
const IPC_REQUEST_MAX_MS = 30 * 60_000;

/** `config_get`: a non-secret `[env]` value of the capsule. */
export const configGet: HostCall = (payload, call) => {
  const key = new Params("config_get", payload).string("key", HOST_LIMITS.key);
  const config = call.pure.config;
  return Promise.resolve({
    value: Object.hasOwn(config, key) ? config[key]! : null,
  });
};

/** `secret_exists`: whether a secret is set; the value never reaches the capsule. */
export const secretExists: HostCall = async (payload, call) => {
  const key = new Params("secret_exists", payload).string(
    "key",
    HOST_LIMITS.key,
  );
  return { exists: await call.pure.secretExists(key) };
};

/** `log`: into the kernel log, tagged with the capsule. Control characters are escaped by the logger. */
export const log: HostCall = (payload, call) => {
  const p = new Params("log", payload);
  const level = p.oneOf<LogLevel>(
    "level",
    ["debug", "info", "warn", "error"],
    "info",
  );
  const message = p.string("message", HOST_LIMITS.log);
  call.pure.logger.log(level, message, {
    capsule: call.caller.capsule,
    session: call.caller.session,
  });
  return Promise.resolve({ ok: true });
};

/** `clock_now`. */
export const clockNow: HostCall = (_payload, call) =>
  Promise.resolve({ now_ms: call.pure.clock.now() });

/** Longest `clock_sleep` (ms). */
export const MAX_SLEEP_MS = 60_000;

/**
 * `clock_sleep`: waits on the kernel's clock (the guest has no timers), e.g.
 * a provider's backoff before a retry. Counts against the invoke's waiting
 * time, not its running time; ends early (`ABORTED`) when the invoke does.
 */
export const clockSleep: HostCall = async (payload, call) => {
  const ms = new Params("clock_sleep", payload).optInt("ms", MAX_SLEEP_MS) ??
    0;
  if (ms > 0) await call.pure.clock.sleep(ms, { signal: call.signal });
  return { ok: true };
};

/** `identity`: who the call runs for. */
export const identity: HostCall = (_payload, call) =>
  Promise.resolve({
    principal: call.caller.principal,
    session: call.caller.session,
    capsule: call.caller.capsule,
  });

/**
 * `approval_request`: the capsule asks the human about something it is about
 * to do. It needs `[capabilities] approval = true`, is rate-limited per
 * capsule, and both the request (a door decision) and the answer are
 * audited; deferral and timeout read as "not approved".
 */
export const approvalRequest: HostCall = async (payload, call) => {
  const p = new Params("approval_request", payload);
  const clean = (s: string, n: number) =>
    // deno-lint-ignore no-control-regex
    s.replace(/[\u0000-\u001f\u007f]/g, " ").trim().slice(0, n);
  const what = clean(p.string("action", 1024), 256);
  const resource = clean(p.string("resource", 4096), 1024);
  const risk = p.oneOf(
    "risk_level",
    ["low", "medium", "high", "critical"] as const,
    "medium",
  );
  const action: Action = {
    type: "capsule_execution",
    capsule_id: call.caller.capsule,
    capability: `approval:${what}`,
  };
  const summary = `Capsule '${call.caller.capsule}' asks to ${what}${
    resource ? ` on ${resource}` : ""
  }`;
  const request = { kind: "approval", summary, risk } as const;
  const answer = await call.gated(request, (granted) => granted.ask(action));
  const decision = answer.kind === "deferred"
    ? "deferred"
    : answer.response.decision;
  const approved = decision === "allow_once" || decision === "allow_session" ||
    decision === "allow_workspace" ||
    decision === "allow_always";
  await call.pure.audit({
    action: action as unknown as JsonValue,
    decision: approved
      ? "allowed"
      : answer.kind === "deferred"
      ? "deferred"
      : "denied",
    proof: { type: "capsule_approval_request", summary },
  });
  return { approved, decision };
};

/**
 * `elicit`: ask the human for a value the manifest declares in `[env]`; a
 * `secret` is stored by the kernel and never returned.
 */
export const elicit: HostCall = async (payload, call) => {
  const p = new Params("elicit", payload);
  const type = p.oneOf("type", ["text", "select", "secret"] as const, "text");
  const key = p.string("key", HOST_LIMITS.key);
  const description = p.optString("description", 4096);
  const options = p.optStrings("options", 64 * 1024);
  if (type === "select" && (!options || options.length === 0)) {
    throw new KernelError(
      "INVALID_INPUT",
      "elicit: a select needs non-empty 'options'",
    );
  }
  const request = {
    kind: "elicit",
    type,
    key,
    ...(description === undefined ? {} : { description }),
    ...(options === undefined ? {} : { options }),
  } as const;
  // Decided (and audited) before the human is asked: a capsule may only ask
  // for what its manifest declares in [env], and a secret answer is stored
  // by the kernel, never returned.
  return await call.gated(request, async (granted) => {
    const value = await granted.ask();
    if (type === "select" && value !== null && !options!.includes(value)) {
      throw new KernelError(
        "INVALID_INPUT",
        "elicit: the answer is not one of the options",
      );
    }
    if (type !== "secret") return { value };
    if (value !== null) await granted.store(value);
    return { value: null };
  });
};

/** `ipc_publish`: a door decision on the bus ACL (audited), then the bus. */
export const ipcPublish: HostCall = async (payload, call) => {
  const p = new Params("ipc_publish", payload);
  const topic = p.string("topic", HOST_LIMITS.topic);
  const message = p.json("payload");
  await call.gated(
    { kind: "publish", topic },
    (granted) => granted.publish(message),
  );
  return { ok: true };
};

/**
 * `ipc_request`: request/response over the bus, decided like a publish. The
 * deadline may reach 30 minutes (an orchestrator waits on a model or a tool
 * that long; the engine bounds a call's total waiting apart).
 */
export const ipcRequest: HostCall = async (payload, call) => {
  const p = new Params("ipc_request", payload);
  const topic = p.string("topic", HOST_LIMITS.topic);
  const timeoutMs = p.optInt("timeout_ms", IPC_REQUEST_MAX_MS) ?? 30_000;
  const message = p.json("payload");
  const response = await call.gated(
    { kind: "request", topic },
    (granted) => granted.request(message, { timeoutMs }),
  );
  return { payload: response };
};
