/**
 * The model router's configuration and its choice: a cost table of
 * providers, ordered rules on the request's estimated prompt size and tool
 * use, and a default. Pure functions, checked once per instance at the first
 * request.
 *
 * @module
 */
import type { LlmRequest } from "@astrid/sdk";

/** One provider of the cost table. */
export interface ProviderInfo {
  /** Dollars per million prompt tokens. */
  readonly input_per_mtok: number;
  /** Dollars per million completion tokens. */
  readonly output_per_mtok: number;
  /** Largest prompt plus completion it takes, in tokens; absent = no limit. */
  readonly context_tokens?: number;
  /** Whether it can call tools (default true). */
  readonly tools?: boolean;
  /** The model id sent to it; absent = the request's own `model`. */
  readonly model?: string;
}

/** One rule: every condition given must hold; the first match wins. */
export interface Rule {
  /** Whether the request offers tools. */
  readonly tools?: boolean;
  /** The estimated prompt is at least this many tokens. */
  readonly min_prompt_tokens?: number;
  /** The estimated prompt is at most this many tokens. */
  readonly max_prompt_tokens?: number;
  /** A provider of the table, or `cheapest` (the cheapest one that fits). */
  readonly use: string;
}

/** The checked configuration. */
export interface RouterConfig {
  readonly providers: Readonly<Record<string, ProviderInfo>>;
  readonly rules: readonly Rule[];
  /** Used when no rule matches: a provider or `cheapest`. */
  readonly fallback: string;
  /** Completion tokens assumed for the cost when the request sets no `max_tokens`. */
  readonly outputTokens: number;
}

/** Where a request goes and why. */
export interface Choice {
  readonly provider: string;
  readonly model: string;
  readonly reason: string;
  readonly prompt_tokens: number;
  readonly estimated_cost: number;
}

const CHEAPEST = "cheapest";
const PROVIDER = /^[A-Za-z0-9_-]{1,64}$/;
const RULE_KEYS = new Set([
  "tools",
  "min_prompt_tokens",
  "max_prompt_tokens",
  "use",
]);
const PROVIDER_KEYS = new Set([
  "input_per_mtok",
  "output_per_mtok",
  "context_tokens",
  "tools",
  "model",
]);

function fail(message: string): never {
  throw new Error(`model-router config: ${message}`);
}

function json(raw: string | undefined, key: string, fallback: unknown) {
  if (raw === undefined || raw.trim() === "") return fallback;
  try {
    return JSON.parse(raw);
  } catch (err) {
    return fail(`'${key}' is not JSON (${(err as Error).message})`);
  }
}

function count(value: unknown, where: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    fail(
      `${where} must be a non-negative number, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function checkProvider(name: string, raw: unknown): ProviderInfo {
  if (!PROVIDER.test(name) || name === "auto" || name === CHEAPEST) {
    fail(
      `provider name '${name}' is not usable (1-64 of [A-Za-z0-9_-], not 'auto' or 'cheapest')`,
    );
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    fail(`provider '${name}' must be an object`);
  }
  const p = raw as Record<string, unknown>;
  for (const k of Object.keys(p)) {
    if (!PROVIDER_KEYS.has(k)) {
      fail(`provider '${name}' has unknown key '${k}'`);
    }
  }
  count(p.input_per_mtok, `providers.${name}.input_per_mtok`);
  count(p.output_per_mtok, `providers.${name}.output_per_mtok`);
  if (p.context_tokens !== undefined) {
    count(p.context_tokens, `providers.${name}.context_tokens`);
  }
  if (p.tools !== undefined && typeof p.tools !== "boolean") {
    fail(`providers.${name}.tools must be true or false`);
  }
  if (p.model !== undefined && typeof p.model !== "string") {
    fail(`providers.${name}.model must be a string`);
  }
  return p as unknown as ProviderInfo;
}

function checkTarget(
  target: unknown,
  where: string,
  providers: Readonly<Record<string, ProviderInfo>>,
): string {
  if (target === CHEAPEST) return target;
  if (typeof target !== "string" || !Object.hasOwn(providers, target)) {
    fail(
      `${where} uses unknown provider ${JSON.stringify(target)} (known: ${
        Object.keys(providers).join(", ") || "none"
      }, or 'cheapest')`,
    );
  }
  return target;
}

/**
 * Reads and checks the capsule's config values.
 *
 * @param config `providers` (JSON object), `rules` (JSON array), `default`,
 *   `output_tokens`.
 * @returns The checked configuration.
 * @throws {Error} `model-router config: …` naming the faulty key.
 */
export function readConfig(
  config: Readonly<Record<string, string>>,
): RouterConfig {
  const rawProviders = json(config.providers, "providers", {});
  if (
    rawProviders === null || typeof rawProviders !== "object" ||
    Array.isArray(rawProviders)
  ) {
    fail("'providers' must be a JSON object of name → costs");
  }
  const providers: Record<string, ProviderInfo> = {};
  for (const [name, p] of Object.entries(rawProviders)) {
    providers[name] = checkProvider(name, p);
  }
  if (Object.keys(providers).length === 0) fail("'providers' is empty");
  const rawRules = json(config.rules, "rules", []);
  if (!Array.isArray(rawRules)) fail("'rules' must be a JSON array");
  const rules = rawRules.map((r: unknown, i: number): Rule => {
    const where = `rule ${i + 1}`;
    if (r === null || typeof r !== "object" || Array.isArray(r)) {
      fail(`${where} must be an object`);
    }
    const o = r as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!RULE_KEYS.has(k)) fail(`${where} has unknown key '${k}'`);
    }
    if (o.tools !== undefined && typeof o.tools !== "boolean") {
      fail(`${where}: 'tools' must be true or false`);
    }
    if (o.min_prompt_tokens !== undefined) {
      count(o.min_prompt_tokens, `${where}: 'min_prompt_tokens'`);
    }
    if (o.max_prompt_tokens !== undefined) {
      count(o.max_prompt_tokens, `${where}: 'max_prompt_tokens'`);
    }
    return { ...o, use: checkTarget(o.use, where, providers) } as Rule;
  });
  const fallback = checkTarget(
    config.default ?? CHEAPEST,
    "'default'",
    providers,
  );
  const out = Number(config.output_tokens ?? "1000");
  return {
    providers,
    rules,
    fallback,
    outputTokens: count(out, "'output_tokens'"),
  };
}

/**
 * The estimated prompt tokens of a request: its characters (system, message
 * blocks, tool definitions) divided by 4, rounded up.
 *
 * @param req The request.
 * @returns The estimate.
 */
export function estimateTokens(req: LlmRequest): number {
  let chars = (req.system ?? "").length;
  for (const m of req.messages ?? []) {
    for (const b of m.content ?? []) {
      if (b.type === "text") chars += b.text.length;
      else if (b.type === "tool_result") chars += b.content.length;
      else chars += b.name.length + JSON.stringify(b.input ?? {}).length;
    }
  }
  for (const t of req.tools ?? []) chars += JSON.stringify(t).length;
  return Math.ceil(chars / 4);
}

function cost(p: ProviderInfo, prompt: number, output: number): number {
  return (prompt * p.input_per_mtok + output * p.output_per_mtok) / 1_000_000;
}

/**
 * Picks the provider of a request.
 *
 * @param cfg The checked configuration.
 * @param req The request.
 * @returns The choice.
 * @throws {Error} When `cheapest` finds no provider that fits.
 */
export function choose(cfg: RouterConfig, req: LlmRequest): Choice {
  const prompt = estimateTokens(req);
  const output = req.max_tokens ?? cfg.outputTokens;
  const tools = (req.tools ?? []).length > 0;
  let target = cfg.fallback;
  let reason = "default";
  for (const [i, r] of cfg.rules.entries()) {
    if (r.tools !== undefined && r.tools !== tools) continue;
    if (r.min_prompt_tokens !== undefined && prompt < r.min_prompt_tokens) {
      continue;
    }
    if (r.max_prompt_tokens !== undefined && prompt > r.max_prompt_tokens) {
      continue;
    }
    target = r.use;
    reason = `rule ${i + 1}`;
    break;
  }
  let provider = target;
  if (target === CHEAPEST) {
    const fits = Object.entries(cfg.providers).filter(([, p]) =>
      (!tools || p.tools !== false) &&
      (p.context_tokens === undefined || p.context_tokens >= prompt + output)
    );
    if (fits.length === 0) {
      throw new Error(
        `model-router: no provider fits a ${prompt}-token prompt${
          tools ? " with tools" : ""
        } (${reason} asks for the cheapest)`,
      );
    }
    fits.sort((a, b) =>
      cost(a[1], prompt, output) - cost(b[1], prompt, output)
    );
    provider = fits[0]![0];
    reason += ", cheapest that fits";
  }
  const info = cfg.providers[provider]!;
  return {
    provider,
    model: info.model ?? req.model ?? "",
    reason,
    prompt_tokens: prompt,
    estimated_cost: cost(info, prompt, output),
  };
}
