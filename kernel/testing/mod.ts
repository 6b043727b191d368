/**
 * Fakes of the kernel ports, for tests anywhere in the kernel: a manual
 * clock, seeded randomness, a capturing logger and an in-memory environment.
 * They are real, small implementations of the port contracts, never mocks of
 * the part under test.
 *
 * @example Build a deps object for a unit test
 * ```ts
 * import { FakeClock, MemoryEnv, MemoryLogger, SeededRandom } from "./mod.ts";
 * const deps = {
 *   clock: new FakeClock(0),
 *   random: new SeededRandom(1),
 *   logger: new MemoryLogger(),
 *   env: new MemoryEnv({ HOME: "/home/test" }),
 * };
 * deps.logger.log("info", "ready");
 * console.assert(deps.logger.records.length === 1);
 * ```
 *
 * @module
 */
export { FakeClock } from "./fake_clock.ts";
export { SeededRandom } from "./seeded_random.ts";
export { MemoryLogger } from "./memory_logger.ts";
export type { CapturedLog } from "./memory_logger.ts";
export { MemoryEnv } from "./memory_env.ts";
