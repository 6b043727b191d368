/**
 * The vocabulary of dependency resolution: what goes in (anything with a
 * package name, version, imports and exports — a manifest, or data rebuilt
 * from `meta.json`) and what comes out (load order, refusals, shared
 * exports, and a tree for `capsule tree`).
 *
 * @module
 */
import type { CapsuleId } from "../../core/ids.ts";
import type { ExportDef, ImportDef } from "../manifest/manifest_types.ts";

/** The part of a manifest the resolver reads. */
export interface Resolvable {
  readonly package: { readonly name: CapsuleId; readonly version: string };
  readonly imports: readonly ImportDef[];
  readonly exports: readonly ExportDef[];
}

/**
 * Why a capsule is refused:
 * - `duplicate`: another capsule with the same name was found first.
 * - `missing_import`: a required import that no other capsule exports.
 * - `version_mismatch`: the interface is exported, but no version satisfies the requirement.
 * - `cycle`: the capsule is on a dependency cycle.
 * - `dependency_refused`: a required import is satisfied only by refused capsules.
 */
export type RefusalCode =
  | "duplicate"
  | "missing_import"
  | "version_mismatch"
  | "cycle"
  | "dependency_refused";

/** A capsule that will not be booted, and why. */
export interface Refusal {
  readonly capsule: CapsuleId;
  readonly code: RefusalCode;
  /** A sentence naming the importer, interface, requirement or cycle. */
  readonly reason: string;
}

/** A capsule exporting an interface, at a version. */
export interface Provider {
  readonly capsule: CapsuleId;
  readonly version: string;
}

/** An interface exported by more than one capsule (a warning, not a refusal). */
export interface SharedExport {
  readonly namespace: string;
  readonly name: string;
  /** Every exporter, sorted by capsule name. */
  readonly exporters: readonly Provider[];
}

/** How one import of a tree node fares. */
export interface TreeImport {
  readonly namespace: string;
  readonly name: string;
  readonly requirement: string;
  readonly optional: boolean;
  /** Loaded capsules (other than the importer) whose export satisfies the requirement. */
  readonly providers: readonly Provider[];
  /** `satisfied`, or unsatisfied and therefore `missing` (required) / `optional_missing`. */
  readonly status: "satisfied" | "missing" | "optional_missing";
}

/** One exported interface of a tree node. */
export interface TreeExport {
  readonly namespace: string;
  readonly name: string;
  readonly version: string;
  /** Other loaded capsules exporting the same interface. */
  readonly shared_with: readonly CapsuleId[];
}

/** One capsule in the tree `capsule tree` prints. */
export interface ResolveTreeNode {
  readonly capsule: CapsuleId;
  readonly version: string;
  readonly status: "ok" | "refused";
  /** Index in the load order, or `null` when refused. */
  readonly position: number | null;
  /** Present when refused. */
  readonly refusal?: { readonly code: RefusalCode; readonly reason: string };
  readonly exports: readonly TreeExport[];
  readonly imports: readonly TreeImport[];
}

/** The outcome of {@linkcode resolveCapsules}. */
export interface ResolveResult {
  /** Capsules to boot, providers before importers; ties broken by name. */
  readonly order: readonly CapsuleId[];
  /** Capsules not to boot, sorted by name. */
  readonly refused: readonly Refusal[];
  /** Interfaces exported by several loaded capsules (all stay active). */
  readonly shared: readonly SharedExport[];
  /** One node per input capsule: loaded ones in load order, then refused ones by name. */
  readonly tree: readonly ResolveTreeNode[];
}
