/**
 * The model router: answers `llm.v1.request.generate.auto` by picking a
 * provider per request (rules on the estimated prompt size and tool use, the
 * cost table for `cheapest`; see `_rules.ts`) and forwarding the request to
 * `llm.v1.request.generate.<chosen>` with the chosen model. The chosen
 * provider publishes its own stream on `llm.v1.stream.<chosen>`; the router
 * relays nothing but the final answer. Each choice is logged and counted
 * (`stats` action; KV `stats:<instance>`, one key per instance). The configuration is checked at the first
 * request: an unknown provider or a malformed value denies that request (and
 * every later one) with a `model-router config: …` reason; a request no
 * provider fits is denied too, and so is one whose provider fails (the reason
 * names it).
 *
 * @module
 */
import {
  defineCapsule,
  host,
  type InterceptEvent,
  type InterceptReturn,
  llmGenerateTopic,
  type LlmRequest,
} from "@astrid/sdk";
import {
  type Choice,
  choose,
  readConfig,
  type RouterConfig,
} from "./_rules.ts";

interface Stats {
  requests: number;
  by_provider: Record<string, number>;
  last: (Choice & { request_id: string; at: number }) | null;
}

function empty(): Stats {
  return { requests: 0, by_provider: {}, last: null };
}

/** This instance's name in KV keys (module state is per instance). */
const INSTANCE = Math.random().toString(36).slice(2, 10) +
  Math.random().toString(36).slice(2, 10);

let checked: RouterConfig | undefined;
let mine: Stats | undefined;

/** Counts a choice in this instance's own key (instances never share one). */
async function record(choice: Choice, requestId: string): Promise<void> {
  mine ??= (await host.kv.get(`stats:${INSTANCE}`) as Stats | null) ??
    empty();
  mine.requests++;
  mine.by_provider[choice.provider] = (mine.by_provider[choice.provider] ?? 0) +
    1;
  mine.last = { ...choice, request_id: requestId, at: await host.clock.now() };
  await host.kv.set(`stats:${INSTANCE}`, mine);
}

/** Every instance's counts summed; `last` is the latest choice of any. */
async function stats(): Promise<Stats> {
  const sum: Stats = empty();
  for (const key of await host.kv.listKeys("stats:")) {
    const s = await host.kv.get(key) as Stats | null;
    if (s === null) continue;
    sum.requests += s.requests;
    for (const [p, n] of Object.entries(s.by_provider)) {
      sum.by_provider[p] = (sum.by_provider[p] ?? 0) + n;
    }
    if (s.last !== null && (sum.last === null || s.last.at > sum.last.at)) {
      sum.last = s.last;
    }
  }
  return sum;
}

async function route(
  event: InterceptEvent<LlmRequest>,
  context: { config: Readonly<Record<string, string>> },
): Promise<InterceptReturn> {
  const req = event.payload;
  if (req === null || typeof req !== "object" || Array.isArray(req)) {
    return {
      type: "deny",
      reason: "model-router: the request is not an object",
    };
  }
  let choice: Choice;
  try {
    checked ??= readConfig(context.config);
    choice = choose(checked, req);
  } catch (err) {
    // Denied with the reason, so the requester reads what to fix (a thrown
    // error reaches it only as "the interceptor threw").
    const reason = (err as Error).message;
    await host.log.error(reason);
    return { type: "deny", reason };
  }
  await host.log.info(
    `model-router: ${req.request_id} → ${choice.provider} (${choice.reason}; ~${choice.prompt_tokens} prompt tokens, ~$${
      choice.estimated_cost.toFixed(6)
    })`,
  );
  await record(choice, req.request_id);
  const timeoutMs = Math.min(
    Number(context.config.request_timeout_ms) || 60_000,
    60_000,
  );
  try {
    const answer = await host.ipc.request(
      llmGenerateTopic(choice.provider),
      { ...req, model: choice.model },
      { timeoutMs },
    );
    return { type: "final", payload: answer };
  } catch (err) {
    return {
      type: "deny",
      reason: `model-router: provider '${choice.provider}' failed: ${
        (err as Error).message
      }`,
    };
  }
}

export default defineCapsule({
  interceptors: { route },
  actions: {
    /** How many requests went where, and the last choice. */
    stats: () => stats(),
  },
});
