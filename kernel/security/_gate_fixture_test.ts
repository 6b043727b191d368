/**
 * A real gate for tests: every layer on one real Deno KV (`:memory:`), a fake
 * clock, seeded randomness, a scripted approval handler. Nothing is mocked.
 */
import { AuditLog } from "../audit/audit_log.ts";
import { TokenAuthority } from "../capability/token_authority.ts";
import { resolveLayers } from "../config/resolve_layers.ts";
import type { CapsuleId, PrincipalId, SessionId } from "../core/ids.ts";
import { keyPairFromSeed } from "../crypto/key_pair.ts";
import { openKv } from "../host/open_kv.ts";
import { KvStore } from "../store/kv_store.ts";
import type { Store } from "../store/store.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { MemoryLogger } from "../testing/memory_logger.ts";
import { SeededRandom } from "../testing/seeded_random.ts";
import { AllowanceStore } from "./approval/allowance_store.ts";
import type {
  ApprovalHandler,
  ApprovalRequest,
  ApprovalResponse,
} from "./approval/handler.ts";
import { ApprovalManager } from "./approval/manager.ts";
import { BudgetLedger } from "./budget_ledger.ts";
import type { BudgetLimits } from "./budget.ts";
import type { GateContext } from "./context.ts";
import { Gate } from "./gate.ts";
import { type CapsuleGrants, NO_GRANTS } from "./manifest_grant.ts";
import type { ModeSettings } from "./modes.ts";
import { SecurityPolicy } from "./policy.ts";
import { type PolicyConfig, policyConfigFromConfig } from "./policy_config.ts";

export const WS = "/work/project";
export const SESSION = "00000000-0000-4000-8000-000000000001" as SessionId;
export const OTHER_SESSION =
  "00000000-0000-4000-8000-000000000002" as SessionId;

/** A handler that answers from a script and records what it was asked. */
export class ScriptedHandler implements ApprovalHandler {
  readonly asked: ApprovalRequest[] = [];
  answers: (ApprovalResponse | null)[];
  available = true;
  constructor(answers: (ApprovalResponse | null)[] = []) {
    this.answers = answers;
  }
  isAvailable(): boolean {
    return this.available;
  }
  request(req: ApprovalRequest): Promise<ApprovalResponse | null> {
    this.asked.push(req);
    return Promise.resolve(
      this.answers.length > 0 ? this.answers.shift()! : null,
    );
  }
}

export interface GateFixture {
  gate: Gate;
  store: Store;
  auditStore: Store;
  clock: FakeClock;
  audit: AuditLog;
  tokens: TokenAuthority;
  budget: BudgetLedger;
  allowances: AllowanceStore;
  approvals: ApprovalManager;
  handler: ScriptedHandler;
  logger: MemoryLogger;
  grants: Map<string, CapsuleGrants>;
  ctx(over?: Partial<GateContext>): GateContext;
  close(): Promise<void>;
}

export interface FixtureOptions {
  mode?: Partial<ModeSettings>;
  policy?: Partial<PolicyConfig>;
  limits?: Partial<BudgetLimits>;
  answers?: (ApprovalResponse | null)[];
  grants?: Record<string, Partial<CapsuleGrants>>;
  /** A file for the KV store (benchmarks); default `:memory:`. */
  kvPath?: string;
  /** Put the audit chain on its own store (to close it for fail-closed tests). */
  separateAuditStore?: boolean;
  /** Wraps the store the audit log writes to (to act between decision and commit). */
  wrapAuditStore?: (store: Store) => Store;
}

export const FS_GRANTS: Partial<CapsuleGrants> = {
  fs_read: ["*", "/home/u"],
  fs_write: ["*", "/home/u"],
  net: ["api.example.com"],
  host_process: ["git", "ls", "rm", "su", "sum"],
  mcp_servers: ["memory"],
};

export async function makeGate(
  options: FixtureOptions = {},
): Promise<GateFixture> {
  const store = new KvStore(await openKv(options.kvPath ?? ":memory:"));
  const auditStore = options.separateAuditStore
    ? new KvStore(await openKv(":memory:"))
    : store;
  const clock = new FakeClock(1_800_000_000_000);
  const random = new SeededRandom(7n);
  const logger = new MemoryLogger();
  const keyPair = keyPairFromSeed(new Uint8Array(32).fill(9));
  const audit = new AuditLog({
    store: options.wrapAuditStore?.(auditStore) ?? auditStore,
    clock,
    random,
    keyPair,
  });
  const tokens = new TokenAuthority({
    store,
    clock,
    random,
    runtimeKey: keyPair,
  });
  const budget = new BudgetLedger({ store, clock }, {
    perActionMicros: 10_000_000,
    sessionMaxMicros: 100_000_000,
    workspaceMaxMicros: null,
    warnAtPercent: 80,
    ...options.limits,
  });
  const allowances = new AllowanceStore({ store, clock, random });
  const approvals = new ApprovalManager({
    store,
    clock,
    random,
    logger,
    timeoutMs: 300_000,
  });
  const handler = new ScriptedHandler(options.answers ?? []);
  approvals.setHandler(handler);
  const grants = new Map<string, CapsuleGrants>(
    Object.entries(options.grants ?? { fs: FS_GRANTS }).map((
      [k, v],
    ) => [k, { ...NO_GRANTS, ...v }]),
  );
  const policy = new SecurityPolicy({
    ...policyConfigFromConfig(resolveLayers([])),
    ...options.policy,
  });
  const gate = new Gate({
    audit,
    tokens,
    budget,
    allowances,
    approvals,
    deferred: approvals.deferred,
    policy,
    clock,
    logger,
    mode: {
      mode: "safe",
      escapePolicy: "ask",
      neverAllow: ["/etc", "/root"],
      autoAllowRead: [],
      autoAllowWrite: [],
      ...options.mode,
    },
    alwaysTokenTtlMs: 3_600_000,
    grantsFor: (c: CapsuleId) => grants.get(c),
    principalHome: () => "/home/astrid/default",
  });
  return {
    gate,
    store,
    auditStore,
    clock,
    audit,
    tokens,
    budget,
    allowances,
    approvals,
    handler,
    logger,
    grants,
    ctx: (over = {}) => ({
      principal: "default" as PrincipalId,
      session: SESSION,
      capsule: "fs" as CapsuleId,
      workspace: WS,
      callId: "call-1",
      ...over,
    }),
    async close() {
      await gate.flush();
      await store.close();
      if (auditStore !== store) await auditStore.close();
    },
  };
}
