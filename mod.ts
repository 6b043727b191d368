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
export type {
  Distro,
  DistroCapsule,
  DistroInstallOutcome,
  DistroLock,
  DistroLockEntry,
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
export { ModelMeter } from "./kernel/daemon/model_meter.ts";
export type { AuditEntry } from "./kernel/audit/audit_entry.ts";
export {
  CAPSULE_CONFIG_FILE,
  readCapsuleConfigFile,
} from "./kernel/daemon/capsule_config_file.ts";
export { ApiClient } from "./kernel/api/client.ts";
export type { ApiTransport, CallOptions } from "./kernel/api/client.ts";
export type {
  ApprovalInfo,
  PromptStreamEvent,
  SessionInfo,
  WorkspaceChange,
} from "./kernel/api/contract.ts";
