/**
 * The JSON shapes of the daemon API's admin routes (capsules, audit, keys,
 * config); the routes themselves are in `contract.ts` (`ROUTES`).
 *
 * @module
 */
import type { AuditIssueCode } from "../audit/verify_result.ts";
import type { AuditEntry } from "../audit/audit_entry.ts";
import type { ConfigEntry } from "../config/effective_config.ts";
import type {
  Refusal as ResolveRefusal,
  ResolveTreeNode,
} from "../capsule/resolver/resolve_types.ts";

/** An installed capsule whose signed record and files check out. */
export interface CapsuleInfo {
  /** `[package].name`. */
  readonly name: string;
  /** `[package].version`. */
  readonly version: string;
  /** `[package].description`, or `null`. */
  readonly description: string | null;
  /** The engine that runs it: `js`, `wasm`, `static`, `mcp`. */
  readonly engine: string;
  /** Where it was installed from (as recorded), or `null`. */
  readonly source: string | null;
  /** First install, ms since the epoch. */
  readonly installed_at: number;
  /** Last (re)install, ms since the epoch. */
  readonly updated_at: number;
  /** The operator approved running its non-Deno MCP servers without bubblewrap. */
  readonly unconfined: boolean;
  /** What it may do, one sentence per kind of access. */
  readonly grants: readonly string[];
}

/** An installed capsule that boot refuses (tampered, foreign key, invalid). */
export interface RefusedCapsuleInfo {
  /** Its name (the directory's name when the record is unreadable). */
  readonly name: string;
  /** The error code of the refusal. */
  readonly code: string;
  /** Why (host paths redacted). */
  readonly reason: string;
}

/** What `GET /v1/capsules` answers. */
export interface CapsuleListBody {
  /** Installed capsules, by name. */
  readonly capsules: readonly CapsuleInfo[];
  /** Installed capsules that would not load. */
  readonly refused: readonly RefusedCapsuleInfo[];
}

/** What `GET /v1/capsules/tree` answers. */
export interface CapsuleTreeBody {
  /** Load order: providers before importers. */
  readonly order: readonly string[];
  /** One node per admitted capsule (render with `renderTree`). */
  readonly tree: readonly ResolveTreeNode[];
  /** Capsules the resolver refuses (missing import, cycle, ...). */
  readonly unresolved: readonly ResolveRefusal[];
  /** Capsules refused before resolution (integrity, record). */
  readonly refused: readonly RefusedCapsuleInfo[];
}

/** What `DELETE /v1/capsules/:name` answers. Query `force=true` removes a capsule others need. */
export interface CapsuleRemoveBody {
  /** The capsule removed. */
  readonly removed: string;
  /** Capsules that lost an interface they require (only when forced). */
  readonly dependents: readonly string[];
}

/** What `GET /v1/audit` answers (newest first). */
export interface AuditListBody {
  /** The entries, as stored (verify to trust them). */
  readonly entries: readonly AuditEntry[];
}

/** The verification of one chain. */
export interface ChainVerifyReport {
  /** The chain's principal. */
  readonly principal: string;
  /** Every entry and the head check out. */
  readonly valid: boolean;
  /** Entries that passed. */
  readonly entries_verified: number;
  /** The first bad entry, when not valid. */
  readonly first_bad?: {
    readonly seq: number;
    readonly id: string | null;
    readonly code: AuditIssueCode;
    readonly reason: string;
  };
}

/** What `POST /v1/audit/verify` answers. */
export interface AuditVerifyBody {
  /** Every chain verified. */
  readonly ok: boolean;
  /** One report per chain of the principal. */
  readonly chains: readonly ChainVerifyReport[];
}

/** What `GET /v1/audit/stats` answers. */
export interface AuditStatsBody {
  /** The chain's principal. */
  readonly principal: string;
  /** Entries in the chain. */
  readonly entries: number;
  /** Entries per decision (`allowed`, `denied`, `deferred`, `info`). */
  readonly decisions: Readonly<Record<string, number>>;
  /** Entries per action type. */
  readonly actions: Readonly<Record<string, number>>;
  /** The earliest entry timestamp (ms), or `null` for an empty chain. */
  readonly first_at: number | null;
  /** The latest entry timestamp (ms), or `null`. */
  readonly last_at: number | null;
}

/** A public key. */
export interface PublicKeyInfo {
  /** Hex of the first 8 bytes of BLAKE3(public key). */
  readonly key_id: string;
  /** The 32-byte Ed25519 public key, padded base64. */
  readonly public_key: string;
}

/** What `GET /v1/keys` answers. Never a private key. */
export interface KeysBody extends PublicKeyInfo {
  /** The daemon's boot generated the key (there was none). */
  readonly created_this_boot: boolean;
  /** Every key the audit verifier trusts (earlier keys of a rotation, then the current one). */
  readonly trusted: readonly PublicKeyInfo[];
}

/** What `GET /v1/config` answers: every key with its value and provenance, secrets redacted. */
export interface ConfigBody {
  /** One entry per config key. */
  readonly entries: readonly ConfigEntry[];
}
