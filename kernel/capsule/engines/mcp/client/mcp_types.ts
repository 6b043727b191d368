/**
 * The types of the MCP client adapter: what the kernel sees of an MCP
 * connection, independent of the SDK and protocol revision behind it. Values
 * the server sends stay opaque JSON ({@linkcode JsonValue}); only the fields
 * the kernel acts on are typed.
 *
 * @module
 */
import type { JsonValue } from "../../../../store/store.ts";

export type { JsonValue };

/** The piped standard streams of an MCP server process. */
export interface McpStdio {
  /** The server's stdin: JSON-RPC messages go here, one per line. */
  readonly stdin: WritableStream<Uint8Array>;
  /** The server's stdout: JSON-RPC messages come from here, one per line. */
  readonly stdout: ReadableStream<Uint8Array>;
}

/**
 * A remote MCP server reached over Streamable HTTP. Every HTTP request of
 * the session (POST, the GET event stream, DELETE) goes through `fetch`, so
 * the caller decides each one (gate, SSRF check, pinned address, auth
 * header); the adapter never calls the global `fetch`.
 */
export interface McpHttpEndpoint {
  /** The server's MCP endpoint (`http:` or `https:`). */
  readonly url: URL;
  /** Performs one HTTP request of the session. */
  readonly fetch: (url: URL, init: RequestInit) => Promise<Response>;
}

/** A root (a directory the server may work in) offered to the server. */
export interface McpRoot {
  /** A `file://` URI. */
  readonly uri: string;
  /** A human-readable name. */
  readonly name?: string;
}

/** A server's request for user input (`elicitation/create`). */
export type McpElicitRequest =
  | { mode: "form"; message: string; requestedSchema: JsonValue }
  | { mode: "url"; message: string; url: string; elicitationId: string };

/** The user's answer to an {@linkcode McpElicitRequest}. */
export interface McpElicitResult {
  /** What the user did. */
  action: "accept" | "decline" | "cancel";
  /** The form's values, with `accept` in form mode. */
  content?: Record<string, JsonValue>;
}

/** A server's request for an LLM completion (`sampling/createMessage`). */
export interface McpSamplingRequest {
  /** The conversation; each `content` is an MCP content block (or an array of them). */
  messages: { role: "user" | "assistant"; content: JsonValue }[];
  /** The system prompt the server asks for. */
  systemPrompt?: string;
  /** The most tokens to generate. */
  maxTokens: number;
  /** Sampling temperature. */
  temperature?: number;
  /** Sequences that end generation. */
  stopSequences?: string[];
  /** The server's model hints and priorities. */
  modelPreferences?: JsonValue;
  /** `none`, `thisServer` or `allServers`. */
  includeContext?: string;
}

/** The answer to an {@linkcode McpSamplingRequest}. */
export interface McpSamplingResult {
  /** Always `assistant`. */
  role: "assistant";
  /** An MCP content block, e.g. `{ type: "text", text }`. */
  content: JsonValue;
  /** The model that produced it. */
  model: string;
  /** Why generation stopped (`endTurn`, `maxTokens`, …). */
  stopReason?: string;
}

/**
 * A log record: from the server (`notifications/message`, with the server's
 * syslog level) or from the adapter itself (logger `mcp-client`, level
 * `warning`, e.g. a skipped malformed line or tool).
 */
export interface McpLogEntry {
  /** `debug`, `info`, `notice`, `warning`, `error`, `critical`, `alert` or `emergency`. */
  level: string;
  /** The name of the logger, when the server gave one. */
  logger?: string;
  /** The payload. */
  data: JsonValue;
}

/**
 * What the client answers when the server asks. Each capability is advertised
 * to the server only when its handler is given (roots `{listChanged: true}`,
 * elicitation `{form: {}, url: {}}`, sampling `{}`).
 */
export interface McpClientHandlers {
  /** Answers `roots/list`. */
  roots?(): Promise<readonly McpRoot[]>;
  /** Answers `elicitation/create`; `signal` fires when the server cancels. */
  elicit?(
    req: McpElicitRequest,
    o: { signal: AbortSignal },
  ): Promise<McpElicitResult>;
  /** Answers `sampling/createMessage`; `signal` fires when the server cancels. */
  sample?(
    req: McpSamplingRequest,
    o: { signal: AbortSignal },
  ): Promise<McpSamplingResult>;
  /** Receives log records (see {@linkcode McpLogEntry}). */
  log?(entry: McpLogEntry): void;
  /** Called when the server says one of its lists changed. */
  listChanged?(kind: "tools" | "resources" | "prompts"): void;
}

/** Options of `connectMcpClient()`. */
export interface McpClientOptions {
  /** The client name sent in `initialize`; default `astrid`. */
  clientName?: string;
  /** The client version sent in `initialize`; default Astrid's version. */
  clientVersion?: string;
  /** Answers to server requests and receivers of notifications. */
  handlers?: McpClientHandlers;
  /** Default per-request timeout in ms (also of `initialize`); default 60 000. */
  requestTimeoutMs?: number;
  /** Aborts connecting (spawned process aside) and `initialize`. */
  signal?: AbortSignal;
  /**
   * How long a stdio server may take to answer the `server/discover` probe
   * before it is taken for a legacy server; default 5 000 ms or the request
   * timeout if shorter. (Over HTTP a silent probe is an outage.)
   */
  probeTimeoutMs?: number;
}

/** A tool the server offers. */
export interface McpTool {
  /** The tool's name, unique on its server. */
  name: string;
  /** A display name. */
  title?: string;
  /** What the tool does (for the model). */
  description?: string;
  /** JSON Schema of the arguments (an object schema). */
  inputSchema: JsonValue;
  /** JSON Schema of `structuredContent`, when declared. */
  outputSchema?: JsonValue;
  /** Hints such as `readOnlyHint`, `destructiveHint`. */
  annotations?: JsonValue;
}

/** The result of a tool call. `isError: true` is a tool failure, not an exception. */
export interface McpToolResult {
  /** MCP content blocks (`text`, `image`, `resource`, …). */
  content: JsonValue[];
  /** Structured output, when the tool returns one. */
  structuredContent?: JsonValue;
  /** The tool reported a failure. */
  isError: boolean;
}

/** A progress notification of a running request. */
export interface McpProgress {
  /** Progress so far (increases). */
  progress: number;
  /** The total, when known. */
  total?: number;
  /** A human-readable status. */
  message?: string;
}

/** Options of a single request. */
export interface McpCallOptions {
  /** Cancels the request (`notifications/cancelled` is sent); rejects with `ABORTED`. */
  signal?: AbortSignal;
  /** Timeout in ms, reset by each progress notification; default the client's. */
  timeoutMs?: number;
  /** Receives progress notifications (a progress token is sent). */
  onProgress?: (p: McpProgress) => void;
}

/** A resource the server lists. */
export interface McpResource {
  /** The resource's URI. */
  uri: string;
  /** Its name. */
  name: string;
  /** A display name. */
  title?: string;
  /** What it holds. */
  description?: string;
  /** Its MIME type. */
  mimeType?: string;
}

/** A resource template the server lists. */
export interface McpResourceTemplate {
  /** An RFC 6570 URI template. */
  uriTemplate: string;
  /** Its name. */
  name: string;
  /** What it yields. */
  description?: string;
  /** The MIME type of what it yields. */
  mimeType?: string;
}

/** A prompt the server lists. */
export interface McpPrompt {
  /** The prompt's name. */
  name: string;
  /** A display name. */
  title?: string;
  /** What it is for. */
  description?: string;
  /** Its arguments (`{ name, description?, required? }`). */
  arguments?: JsonValue[];
}

/** Options of list and ping requests. */
export interface McpListOptions {
  /** Cancels the request; rejects with `ABORTED`. */
  signal?: AbortSignal;
  /**
   * Fetch the list even when a copy the server marked fresh (`ttlMs`) is
   * cached; the new answer replaces the copy. Ignored by `ping()`.
   */
  fresh?: boolean;
}

/** An initialised connection to one MCP server. */
export interface McpClientSession {
  /** The server's self-description from `initialize`. */
  readonly server: { name: string; version: string; title?: string };
  /**
   * The negotiated protocol revision: `2026-07-28` with a server that
   * answers `server/discover`, else what `initialize` agreed (e.g.
   * `2025-11-25`).
   */
  readonly protocolVersion: string;
  /** Which server features were advertised. */
  readonly capabilities: {
    tools: boolean;
    resources: boolean;
    prompts: boolean;
    logging: boolean;
  };
  /** The server's usage instructions, when given. */
  readonly instructions?: string;
  /** Lists all tools (follows cursors; at most 10 000). */
  listTools(o?: McpListOptions): Promise<McpTool[]>;
  /** Calls a tool. */
  callTool(
    name: string,
    args: Record<string, JsonValue>,
    o?: McpCallOptions,
  ): Promise<McpToolResult>;
  /** Lists all resources (follows cursors; at most 10 000). */
  listResources(o?: McpListOptions): Promise<McpResource[]>;
  /** Lists all resource templates (follows cursors; at most 10 000). */
  listResourceTemplates(o?: McpListOptions): Promise<McpResourceTemplate[]>;
  /** Reads a resource. */
  readResource(
    uri: string,
    o?: McpCallOptions,
  ): Promise<{ contents: JsonValue[] }>;
  /** Lists all prompts (follows cursors; at most 10 000). */
  listPrompts(o?: McpListOptions): Promise<McpPrompt[]>;
  /** Renders a prompt. */
  getPrompt(
    name: string,
    args: Record<string, string>,
    o?: McpCallOptions,
  ): Promise<{ description?: string; messages: JsonValue[] }>;
  /** Sets the lowest level of log notifications the server sends. */
  setLogLevel(level: string): Promise<void>;
  /** Checks that the server answers. */
  ping(o?: McpListOptions): Promise<void>;
  /** Tells the server to ask for the roots again (no-op without a roots handler). */
  notifyRootsChanged(): Promise<void>;
  /** Resolves once the connection has ended (server exit, stdout EOF or `close()`). */
  readonly closed: Promise<void>;
  /** Closes the connection and the server's stdin; idempotent. */
  close(): Promise<void>;
}
