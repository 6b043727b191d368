/**
 * What every scenario of `deno task bench` exports, and its helpers.
 *
 * @module
 */
import type { Row } from "../_interleave.ts";
import { KvStore } from "../../kernel/store/kv_store.ts";
import { openKv } from "../../kernel/host/open_kv.ts";

/** Options of one scenario run. */
export interface ScenarioOptions {
  /** Few rounds: a smoke run, not a measurement. */
  readonly quick: boolean;
  /** A private temp dir (removed by the runner). */
  readonly dir: string;
}

/** A scenario: runs its interleaved rounds and returns table rows. */
export type Scenario = (options: ScenarioOptions) => Promise<Row[]>;

/** The two store kinds of every store-backed row. */
export const STORE_KINDS = ["memory", "file"] as const;
/** One store kind. */
export type StoreKind = typeof STORE_KINDS[number];

/**
 * Opens a store of a kind: Deno KV `:memory:`, or a Deno KV file in `dir`.
 *
 * @param kind The kind.
 * @param dir Where a file store goes.
 * @param name The file's name.
 * @returns The store.
 */
export async function openStore(
  kind: StoreKind,
  dir: string,
  name: string,
): Promise<KvStore> {
  return new KvStore(
    await openKv(kind === "memory" ? ":memory:" : `${dir}/${name}.kv`),
  );
}
