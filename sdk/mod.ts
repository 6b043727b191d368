/**
 * `@astrid/sdk` — the shared vocabulary of Astrid for capsule authors, the CLI
 * and the kernel: error codes, the wire error shape, the host ABI, the
 * capsule-author API for `js` capsules (`defineCapsule`, `host`), and the
 * names of the kernel's bus topics (`KERNEL_TOPICS`).
 *
 * @example Recognise an error that crossed the bus
 * ```ts
 * import { isErrorCode, type WireError } from "./mod.ts";
 * const err: WireError = { code: "NOT_FOUND", message: "No capsule 'x'" };
 * console.assert(isErrorCode(err.code));
 * ```
 *
 * @module
 */
export { ERROR_CODES, isErrorCode } from "./error_codes.ts";
export type { ErrorCode, WireError } from "./error_codes.ts";
export { SDK_VERSION } from "./version.ts";
export { HOST_FUNCTION_NAMES, HOST_LIMITS } from "./host_abi.ts";
export type {
  HostFunctionName,
  HostFunctions,
  HostParams,
  HostResult,
} from "./host_abi.ts";
export {
  CAPSULE_KIND,
  defineCapsule,
  HOST_BINDING_NAME,
  RAW_JSON_KEY,
} from "./capsule.ts";
export { RawJson, rawJson, rawJsonOf } from "./raw_json.ts";
export type {
  CapsuleContext,
  CapsuleDefinition,
  CapsuleHandler,
  CapsuleHandlers,
} from "./capsule.ts";
export { callHost, host, HostCallError } from "./host.ts";
export type { Host, HttpStream } from "./host.ts";
export { ndjsonLines, sseEvents } from "./stream.ts";
export type { SseEvent } from "./stream.ts";
export {
  apiErrorMessage,
  openProviderStream,
  ProviderError,
} from "./provider.ts";
export { LlmStreamBuilder } from "./llm_stream_builder.ts";
export type { ProviderStreamOptions } from "./provider.ts";
export {
  approvalResponseTopic,
  elicitResponseTopic,
  KERNEL_TOPICS,
  lifecycleTopic,
} from "./topics.ts";
export type { KernelTopics } from "./topics.ts";
export { parseToolArguments, textOf, toolCallsOf } from "./llm.ts";
export type {
  ContentBlock,
  LlmRequest,
  LlmResponse,
  LlmStreamEvent,
  LlmStreamMessage,
  Message,
  Role,
  StopReason,
  TextBlock,
  ToolDefinition,
  ToolResultBlock,
  ToolUseBlock,
  Usage,
} from "./llm.ts";
export { isTerminal, TURN_EVENT_TYPES, TURN_EVENTS_VERSION } from "./turn.ts";
export type {
  ApprovalAnswer,
  ApprovalDecisionEvent,
  ApprovalRequiredEvent,
  BudgetEvent,
  ErrorEvent,
  FinalEvent,
  RiskLevel,
  TextDeltaEvent,
  ToolCallEvent,
  ToolResultEvent,
  TurnEvent,
} from "./turn.ts";
export {
  AGENT_TOPICS,
  isToolName,
  llmGenerateTopic,
  llmStreamTopic,
  toolExecuteTopic,
} from "./agent.ts";
export type {
  AgentTopics,
  IdentityRequest,
  SessionAppend,
  SessionMessages,
  ToolDescribeResult,
  ToolExecuteRequest,
  ToolExecuteResult,
  TurnEventMessage,
  TurnRequest,
  TurnResult,
} from "./agent.ts";
export type {
  CapsuleSpec,
  InterceptEvent,
  InterceptHandler,
  InterceptReturn,
  ToolSpec,
} from "./spec.ts";
