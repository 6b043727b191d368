/**
 * The kernel's model meter. Providers report the tokens of each model call
 * on their stream (`llm.v1.stream.<provider>`, a `usage` event); the meter
 * charges them to the budget of the session, at the configured price
 * (`model.input_usd_per_mtok`, `model.output_usd_per_mtok`), records each
 * charge in the audit chain (a lazy append: it rides with the chain's next
 * commit; one that fails stops what is tracked, fail closed), and stops what it tracks when the money runs
 * out: a turn past the session's budget, a sub-agent past its slice.
 *
 * Security model: the charge is the kernel's, not the capsules' — no capsule
 * can skip it or lower the price (a workspace config may only raise it). It
 * trusts the token counts a provider reports; providers are installed and
 * approved capsules, and their own stream is the only place the counts
 * exist. Spend is written to the store's ledger (check-and-set), so several
 * kernels on one store never overspend; the per-agent slice is counted in
 * memory for the lifetime of one delegation.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { Logger } from "../core/ports.ts";
import type { Bus } from "../bus/bus.ts";
import type { AuditLog } from "../audit/audit_log.ts";
import type { BudgetLedger } from "../security/budget_ledger.ts";
import type { GateContext } from "../security/context.ts";
import type { MeterPort } from "../abi/ports.ts";
import { usageTokens } from "../abi/usage_tokens.ts";

/** What one tracked history session does when its money runs out. */
export interface MeterTrack {
  /** The agent the spend is attributed to. */
  readonly agent: string;
  /** The agent's own slice in micro-dollars, or `null` (the session's budget only). */
  readonly limitMicros: number | null;
  /** Called once when the session's budget or the slice is exceeded. */
  onExceeded(error: Error): void;
}

/** Prices in USD per million tokens (= micro-dollars per token). */
export interface ModelPrices {
  readonly inputUsdPerMtok: number;
  readonly outputUsdPerMtok: number;
}

/** What the meter needs. */
export interface ModelMeterDeps {
  readonly bus: Bus;
  readonly budget: BudgetLedger;
  readonly audit: AuditLog;
  readonly logger: Logger;
  readonly prices: ModelPrices;
  /** The gate context spend is charged under (principal, session, workspace). */
  readonly ctx: Omit<GateContext, "callId" | "agent">;
}

interface Tracked extends MeterTrack {
  spent: number;
  exceeded: boolean;
}

/** Charges the model use providers report; see the module doc. */
export class ModelMeter implements MeterPort {
  readonly #deps: ModelMeterDeps;
  readonly #tracks = new Map<string, Tracked>();
  #stop: (() => void) | undefined;

  /**
   * @param deps The bus, the ledger, the audit log, prices and the session.
   */
  constructor(deps: ModelMeterDeps) {
    this.#deps = deps;
  }

  /** Subscribes to the providers' streams (idempotent). */
  start(): void {
    this.#stop ??= this.#deps.bus.subscribe("kernel", {
      pattern: "llm.v1.stream.*",
      handler: (env) => this.#onStream(env.topic, env.payload),
    });
  }

  /** Stops metering. */
  close(): void {
    this.#stop?.();
    this.#stop = undefined;
  }

  /**
   * Tracks a history session: its model use is charged and `onExceeded`
   * fires past the session's budget or the slice.
   *
   * @param historySession The `session_id` its model requests carry.
   * @param track The agent, the slice, the stop.
   * @returns Stops tracking.
   */
  track(historySession: string, track: MeterTrack): () => void {
    const t: Tracked = { ...track, spent: 0, exceeded: false };
    this.#tracks.set(historySession, t);
    return () => {
      if (this.#tracks.get(historySession) === t) {
        this.#tracks.delete(historySession);
      }
    };
  }

  /**
   * The cost of a model call in micro-dollars (rounded up, at most the
   * largest safe integer the ledger records).
   *
   * @param usage Tokens in and out.
   * @returns Micro-dollars.
   */
  costMicros(usage: { input_tokens: number; output_tokens: number }): number {
    const { inputUsdPerMtok, outputUsdPerMtok } = this.#deps.prices;
    return Math.min(
      Math.ceil(
        usage.input_tokens * inputUsdPerMtok +
          usage.output_tokens * outputUsdPerMtok,
      ),
      Number.MAX_SAFE_INTEGER,
    );
  }

  async #onStream(topic: string, payload: unknown): Promise<void> {
    const m = payload as {
      request_id?: unknown;
      session_id?: unknown;
      event?: { type?: unknown; usage?: Record<string, unknown> };
    } | null;
    if (m?.event?.type !== "usage" || typeof m.session_id !== "string") return;
    const t = this.#tracks.get(m.session_id);
    if (t === undefined) return;
    const usage = usageTokens(m.event?.usage);
    const cost = this.costMicros(usage);
    const ctx: GateContext = {
      ...this.#deps.ctx,
      callId: typeof m.request_id === "string"
        ? m.request_id.slice(0, 200)
        : "model-usage",
      agent: t.agent,
    };
    try {
      const r = await this.#deps.budget.reserve(ctx, cost);
      if (r.ok) r.reservation.commit();
      // The record of a spend already made and charged: nothing waits on
      // it, so it rides with the chain's next commit (lazy); a failed
      // commit stops what is tracked all the same (fail closed).
      this.#deps.audit.append({
        principal: ctx.principal,
        session: ctx.session,
        capsule: null,
        call_id: ctx.callId,
        agent: t.agent,
        action: {
          type: "model_usage",
          provider: topic.slice("llm.v1.stream.".length),
          input_tokens: usage.input_tokens,
          output_tokens: usage.output_tokens,
          cost_micros: cost,
        },
        decision: r.ok ? "allowed" : "denied",
        proof: r.ok
          ? { type: "budget", charged_micros: cost }
          : { type: "budget", reason: r.message },
        outcome: null,
      }, { lazy: true }).catch((err) => this.#unrecorded(t, err));
      if (!r.ok) return this.#exceeded(t, r.message);
      t.spent += cost;
      if (t.limitMicros !== null && t.spent > t.limitMicros) {
        this.#exceeded(
          t,
          `agent '${t.agent}' spent $${(t.spent / 1e6).toFixed(4)} of its $${
            (t.limitMicros / 1e6).toFixed(4)
          } slice`,
        );
      }
    } catch (err) {
      this.#unrecorded(t, err);
    }
  }

  #unrecorded(t: Tracked, err: unknown): void {
    this.#deps.logger.log("error", "model meter could not charge", {
      error: String(err).slice(0, 300),
    });
    this.#exceeded(t, "the spend could not be recorded (fail closed)");
  }

  #exceeded(t: Tracked, why: string): void {
    if (t.exceeded) return;
    t.exceeded = true;
    t.onExceeded(
      new KernelError("BUDGET_EXCEEDED", `Stopped: ${why}`),
    );
  }
}
