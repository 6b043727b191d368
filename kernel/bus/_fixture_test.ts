/**
 * Private, for this folder's tests and bench (named `_test.ts` so that the
 * architecture rules treat it as test code): a {@linkcode Bus} on a fake
 * clock and seeded randomness that records every denial, plus ids, a
 * context and a controllable gate for slow handlers.
 *
 * @module
 */
import type { CapsuleId, PrincipalId, SessionId } from "../core/ids.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { MemoryLogger } from "../testing/memory_logger.ts";
import { SeededRandom } from "../testing/seeded_random.ts";
import { Bus } from "./bus.ts";
import type { BusDeps } from "./bus_types.ts";
import type {
  BusContext,
  BusDenial,
  BusMessage,
  JsonValue,
} from "./envelope.ts";

/** The start time of every fixture clock. */
export const T0 = 1_700_000_000_000;

/** Capsule ids used across the tests. */
export const A = "alpha" as CapsuleId;
/** Second capsule. */
export const B = "beta" as CapsuleId;
/** Third capsule. */
export const C = "gamma" as CapsuleId;

/** The principal and session every fixture message carries. */
export const CTX: BusContext = {
  principal: "alice" as PrincipalId,
  session: "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d" as SessionId,
};

/** What {@linkcode fixture} builds. */
export interface BusFixture {
  readonly bus: Bus;
  readonly clock: FakeClock;
  readonly logger: MemoryLogger;
  /** Every denial the bus reported, in order. */
  readonly denials: BusDenial[];
}

/**
 * A bus with a recording denial sink.
 *
 * @param overrides Replaces deps (e.g. a failing `onDenied`).
 */
export function fixture(overrides: Partial<BusDeps> = {}): BusFixture {
  const clock = new FakeClock(T0);
  const logger = new MemoryLogger();
  const denials: BusDenial[] = [];
  const bus = new Bus({
    clock,
    random: new SeededRandom(42),
    logger,
    onDenied: (d) => void denials.push(d),
    ...overrides,
  });
  return { bus, clock, logger, denials };
}

/** A message on `topic` with the fixture context. */
export function msg(topic: string, payload: JsonValue = null): BusMessage {
  return { topic, payload, ...CTX };
}

/** A latch: handlers `await gate.wait()` until the test calls `open()`. */
export class Gate {
  #open = false;
  #waiters: (() => void)[] = [];

  wait(): Promise<void> {
    if (this.#open) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  open(): void {
    this.#open = true;
    for (const w of this.#waiters.splice(0)) w();
  }
}
