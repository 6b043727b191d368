/**
 * The one interleaving harness of `deno task bench`.
 *
 * `deno bench` measures one bench after the other, so on a shared, noisy
 * machine a subject and its baseline see different loads and their ratio
 * drifts with whatever else runs. Here every round measures EVERY case
 * (A, B, A, B, …; the order rotates each round so neither side always goes
 * first), and a ratio is taken per round, between numbers measured seconds
 * apart. A result is the median of the per-round values with their spread
 * (p25–p75 and min–max), never a single mean.
 *
 * @module
 */

/** One measured operation: called `iterations` times per round, sequentially. */
export type Op = () => unknown;

/** How many rounds and calls. */
export interface InterleaveOptions {
  /** Rounds; each measures every case once. */
  readonly rounds: number;
  /** Calls of each case per round (the per-round time is their mean). */
  readonly iterations: number;
  /** Untimed calls of each case before the first round. */
  readonly warmup?: number;
  /**
   * Cumulative meters (e.g. milliseconds spent inside one function), read
   * before and after every timed batch: what a meter grew by during a
   * case's batch, per call, goes to `"<case>@<meter>"` of the result, next
   * to the case's own time of the same round.
   */
  readonly meters?: Readonly<Record<string, () => number>>;
}

/** Per-round milliseconds per call, by case name. */
export type RoundTimes = Record<string, number[]>;

/**
 * Runs every case in interleaved rounds.
 *
 * @param cases The operations by name.
 * @param options Rounds, calls per round, warm-up calls.
 * @returns For each case, one time per round (ms per call), in round order,
 *   so `times.a[i] / times.b[i]` is the ratio of round `i`.
 */
export async function interleave(
  cases: Readonly<Record<string, Op>>,
  options: InterleaveOptions,
): Promise<RoundTimes> {
  const names = Object.keys(cases);
  const meters = Object.entries(options.meters ?? {});
  const out: RoundTimes = Object.fromEntries(
    names.flatMap((n) => [n, ...meters.map(([m]) => `${n}@${m}`)])
      .map((n) => [n, []]),
  );
  for (const name of names) {
    for (let i = 0; i < (options.warmup ?? 0); i++) await cases[name]!();
  }
  for (let r = 0; r < options.rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + r) % names.length]!;
      const fn = cases[name]!;
      const before = meters.map(([, read]) => read());
      const t0 = performance.now();
      for (let i = 0; i < options.iterations; i++) await fn();
      out[name]!.push((performance.now() - t0) / options.iterations);
      meters.forEach(([m, read], j) =>
        out[`${name}@${m}`]!.push((read() - before[j]!) / options.iterations)
      );
    }
  }
  return out;
}

/** Median and spread of per-round values. */
export interface Summary {
  readonly median: number;
  readonly p25: number;
  readonly p75: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * Summarises per-round values.
 *
 * @param xs One value per round (at least one).
 * @returns Median, quartiles, extremes and count.
 */
export function summarize(xs: readonly number[]): Summary {
  if (xs.length === 0) throw new RangeError("no values to summarise");
  const s = [...xs].sort((a, b) => a - b);
  return {
    median: quantile(s, 0.5),
    p25: quantile(s, 0.25),
    p75: quantile(s, 0.75),
    min: s[0]!,
    max: s[s.length - 1]!,
    n: s.length,
  };
}

/**
 * Per-round ratio `subject[i] / baseline[i]`.
 *
 * @param subject Per-round times of the subject.
 * @param baseline Per-round times of the baseline (same rounds).
 * @returns One ratio per round.
 */
export function ratios(
  subject: readonly number[],
  baseline: readonly number[],
): number[] {
  return subject.map((x, i) => x / baseline[i]!);
}

/** A target: the median must be `<=` (or `>=`) the value. */
export interface Target {
  readonly op: "<=" | ">=";
  readonly value: number;
}

/** One line of the table. */
export interface Row {
  /** What is measured (subject vs baseline). */
  readonly name: string;
  /** `×` for a ratio, or a unit such as `MB` or `ms`. */
  readonly unit: string;
  readonly summary: Summary;
  /** The store kind the row ran on, when a store is involved. */
  readonly store?: "memory" | "file";
  /** The target; none: a reference number. */
  readonly target?: Target;
  /** Median absolute times, for the reader (e.g. "0.21 ms vs 0.09 ms"). */
  readonly detail?: string;
}

/**
 * Whether a row meets its target (judged on the median).
 *
 * @param row The row.
 * @returns `undefined` when the row has no target.
 */
export function passes(row: Row): boolean | undefined {
  if (!row.target) return undefined;
  const m = row.summary.median;
  return row.target.op === "<=" ? m <= row.target.value : m >= row.target.value;
}

/**
 * A ratio row from interleaved times.
 *
 * @param name The row's name.
 * @param subject Per-round times of the subject.
 * @param baseline Per-round times of its baseline.
 * @param extra Store kind and target.
 * @returns The row, its detail giving both median times.
 */
export function ratioRow(
  name: string,
  subject: readonly number[],
  baseline: readonly number[],
  extra: { store?: "memory" | "file"; target?: Target } = {},
): Row {
  const a = summarize(subject).median;
  const b = summarize(baseline).median;
  return {
    name,
    unit: "×",
    summary: summarize(ratios(subject, baseline)),
    ...extra,
    detail: `${fmtMs(a)} vs ${fmtMs(b)}`,
  };
}

/**
 * A row of per-round times in milliseconds.
 *
 * @param name The row's name.
 * @param xs Per-round times (ms).
 * @param extra Store kind and target.
 * @returns The row.
 */
export function msRow(
  name: string,
  xs: readonly number[],
  extra: { store?: "memory" | "file"; target?: Target } = {},
): Row {
  return { name, unit: "ms", summary: summarize(xs), ...extra };
}

/**
 * Milliseconds for a table cell.
 *
 * @param ms A duration.
 * @returns e.g. `0.123 ms` or `45 µs`.
 */
export function fmtMs(ms: number): string {
  if (ms < 0.1) return `${(ms * 1000).toFixed(1)} µs`;
  if (ms < 10) return `${ms.toFixed(3)} ms`;
  return `${ms.toFixed(1)} ms`;
}
