/**
 * Astrid for Deno — embedding API. Start a kernel in-process, read its
 * configuration and keys. Internals stay behind this surface.
 *
 * @example Boot a kernel with a throwaway home
 * ```ts ignore
 * import { startKernel } from "./mod.ts";
 * await using kernel = await startKernel({ inMemoryStore: true });
 * console.log(kernel.config.get("workspace.mode"));
 * ```
 *
 * @module
 */
export {
  generateRuntimeKey,
  kernelPaths,
  readKernelConfig,
  readRuntimeKey,
  startKernel,
  SYSTEM_CONFIG_PATH,
} from "./kernel/daemon/mod.ts";
export type {
  HomeOptions,
  KernelHandle,
  KernelPaths,
  StartKernelOptions,
} from "./kernel/daemon/mod.ts";
export { KernelError, toWireError } from "./kernel/core/errors.ts";
export type { ErrorCode, WireError } from "./sdk/error_codes.ts";
export { MemoryEnv } from "./kernel/testing/memory_env.ts";
export type { ConfigEntry, EffectiveConfig } from "./kernel/config/mod.ts";
export type { KeyPair } from "./kernel/crypto/key_pair.ts";
export type { Env, Logger } from "./kernel/core/ports.ts";
export { publicKeyToBase64 } from "./kernel/crypto/key_id.ts";
export { blake3Hex } from "./kernel/crypto/blake3.ts";
export { sign, verify } from "./kernel/crypto/ed25519.ts";
export { VERSION } from "./version.ts";
export { Gate, NO_GRANTS, refusalError } from "./kernel/security/mod.ts";
export type {
  Action,
  ApprovalHandler,
  ApprovalRequest,
  ApprovalResponse,
  CapsuleGrants,
  Decision,
  GateContext,
  Proof,
} from "./kernel/security/mod.ts";
export type { SecurityLayers } from "./kernel/daemon/build_gate.ts";
export {
  parseCapsuleId,
  parsePrincipalId,
  parseSessionId,
} from "./kernel/core/ids.ts";
export { startRuntime } from "./kernel/daemon/runtime.ts";
export type { Runtime, RuntimeOptions } from "./kernel/daemon/runtime.ts";
export {
  AgentSession,
  type AgentSessionOptions,
  approvalRouterOf,
  commitOverlayAnswering,
  type SessionOverlay,
  type Turn,
} from "./kernel/turn/mod.ts";
export type {
  ApprovalAnswer,
  ApprovalRequiredEvent,
  TurnEvent,
} from "./sdk/turn.ts";
export { installCapsule, recordInstall } from "./kernel/daemon/install.ts";
export type {
  InstallOptions,
  RecordInstallOptions,
} from "./kernel/daemon/install.ts";
export type {
  CapsuleConsent,
  ConsentVerdict,
  WorkspaceConsent,
} from "./kernel/capsule/registry/workspace_consent.ts";
export {
  BUILD_LOCK,
  buildCapsuleDir,
  capsuleFiles,
  installBuiltCapsule,
  verifyCapsuleBuild,
} from "./kernel/daemon/capsule_build.ts";
export type {
  BuildCapsuleOptions,
  BuildCapsuleResult,
  CapsuleBuildLock,
  InstallBuiltOptions,
  InstallBuiltResult,
} from "./kernel/daemon/capsule_build.ts";
export {
  DISTRO_LOCK,
  installDistro,
  lockDistro,
  parseDistro,
  readDistro,
  readInstalledDistro,
  verifyDistro,
} from "./kernel/daemon/distro.ts";
export {
  applySettings,
  distroGroups,
  openSecretRequests,
  pickCapsules,
  resolveSettings,
  usedVariables,
} from "./kernel/daemon/distro_setup.ts";
export type {
  CapsuleSetting,
  SecretRequest,
} from "./kernel/daemon/distro_setup.ts";
export type {
  Distro,
  DistroCapsule,
  DistroInstallOutcome,
  DistroLock,
  DistroLockEntry,
  DistroStep,
  InstallDistroOptions,
  InstalledDistro,
} from "./kernel/daemon/distro.ts";
export { startCapsuleTestKernel } from "./kernel/daemon/capsule_test_kernel.ts";
export type {
  CapsuleTestKernel,
  CapsuleTestKernelOptions,
} from "./kernel/daemon/capsule_test_kernel.ts";
export { denoToolchain, TOOL_ENV_NAMES } from "./kernel/host/deno_toolchain.ts";
export { prefetch } from "./kernel/daemon/prefetch.ts";
export type { PrefetchStep } from "./kernel/daemon/prefetch.ts";
export type { DenoToolchain } from "./kernel/host/deno_toolchain.ts";
export type { CapsuleId, PrincipalId, SessionId } from "./kernel/core/ids.ts";
export type { JsonValue } from "./kernel/store/store.ts";
export { createDenoEnv } from "./kernel/host/deno_env.ts";
export { createDenoFs } from "./kernel/host/deno_fs.ts";
export {
  REPLAY_FILE_ENV,
  replayConfigFromEnv,
} from "./kernel/daemon/replay_env.ts";
export { KvSecretStore } from "./kernel/daemon/kv_secrets.ts";
export {
  PROVIDER_ENV,
  sessionCapsuleConfig,
  sessionModel,
} from "./kernel/daemon/session_setup.ts";
export { ModelMeter } from "./kernel/daemon/model_meter.ts";
export type { AuditEntry } from "./kernel/audit/audit_entry.ts";
export { verifyExportLines } from "./kernel/audit/standalone_verify.ts";
export { renderTree } from "./kernel/capsule/resolver/render_tree.ts";
export {
  CAPSULE_CONFIG_FILE,
  readCapsuleConfigFile,
} from "./kernel/daemon/capsule_config_file.ts";
// The daemon, its API and its client (issue 14).
export { ApiClient } from "./kernel/api/client.ts";
export type { ApiTransport, CallOptions } from "./kernel/api/client.ts";
export { API_PREFIX, MAX_BODY_BYTES, ROUTES } from "./kernel/api/contract.ts";
export type {
  EngineStatus,
  RouteName,
  StatusInfo,
} from "./kernel/api/contract.ts";
export { startDaemon } from "./kernel/server/daemon.ts";
export type { Daemon, DaemonOptions } from "./kernel/server/daemon.ts";
export { daemonEnv } from "./kernel/daemon/daemon_env.ts";
export { parseReady, runFiles } from "./kernel/daemon/run_files.ts";
export type { ReadyInfo, RunFiles } from "./kernel/daemon/run_files.ts";
export type {
  ApprovalInfo,
  ProgressEvent,
  PromptStreamEvent,
  SessionInfo,
  WorkspaceChange,
} from "./kernel/api/contract.ts";
export type {
  AuditListBody,
  AuditStatsBody,
  AuditVerifyBody,
  CapsuleInfo,
  CapsuleListBody,
  CapsuleRemoveBody,
  CapsuleTreeBody,
  ChainVerifyReport,
  ConfigBody,
  KeysBody,
  PublicKeyInfo,
  RefusedCapsuleInfo,
} from "./kernel/api/contract_admin.ts";
export { daemonFlags, usableBubblewrap } from "./kernel/daemon/deno_flags.ts";
export type {
  DaemonFlags,
  DaemonFlagsInput,
  FlagEntry,
  SkippedCapsule,
} from "./kernel/daemon/deno_flags.ts";
export { cliFlags } from "./kernel/daemon/cli_flags.ts";
export type { CliFlags } from "./kernel/daemon/cli_flags.ts";
export {
  checkWrapManifest,
  compareWrapInstall,
  wrapInventory,
} from "./kernel/daemon/wrap_capsule.ts";
export type {
  WrapInstallState,
  WrapInventory,
} from "./kernel/daemon/wrap_capsule.ts";
export { learnServerNeeds } from "./kernel/daemon/wrap_learn.ts";
export { allowWrapStartChecks } from "./kernel/daemon/wrap_allowances.ts";
export type { LearnedNeeds, LearnOptions } from "./kernel/daemon/wrap_learn.ts";
