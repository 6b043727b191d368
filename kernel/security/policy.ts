/**
 * `SecurityPolicy`: the admin's hard limits (reference §6.3), checked before
 * tokens, budgets and approval. A blocked action is never run, whatever the
 * caller holds.
 *
 * Per action:
 * - `file_read`, `file_write`, `file_delete`: path rules ⇒ approval (high).
 * - `execute_command`: command rules and argument size ⇒ approval (high).
 * - `network_request`: valid port, host rules ⇒ approval (medium) when
 *   `requireApprovalForNetwork`, else allowed.
 * - `transmit_data`: a destination that is a URL with a network scheme
 *   (http, https, ws, wss, ftp), or whose text after its last `@` (the
 *   domain of an e-mail address) is a host with a dot or colon, gets the
 *   host rules; a URL with any other scheme is blocked; any other
 *   destination (a channel name) is compared as a whole with the host
 *   lists; then as `network_request`, risk high.
 * - `financial_transaction`, `access_control_change` ⇒ approval (critical);
 *   `capability_grant` ⇒ approval (high).
 * - `mcp_tool_call`: `blockedTools` has `server:tool`, `server` or `tool` ⇒
 *   blocked; `approvalRequiredTools` has `server:tool` or `server` ⇒ approval
 *   (medium); else allowed. A malformed `args_hash` is blocked.
 * - `mcp_host_tool_call` (an MCP host calls a capsule's tool through the tool
 *   gateway): the same lists, with the capsule as the server; a capsule in
 *   `blockedCapsules` is blocked; a malformed tool name or `args_hash` is
 *   blocked.
 * - `mcp_resource_read`, `mcp_prompt_get`, `mcp_elicitation`,
 *   `mcp_sampling`: a server in `blockedTools` is blocked; fields outside the
 *   limits of `mcp_request.ts` (overlong or control characters in a URI,
 *   name or message; a non-http(s) or userinfo elicitation URL; sampling
 *   `max_tokens` outside 1–1_000_000) are blocked. Then resource reads and
 *   prompt gets ⇒ approval (low) when `approvalRequiredTools` has the
 *   server, else allowed (like tool calls); elicitation ⇒ approval (medium),
 *   and in `url` mode host rules on the host the URL parser sees ⇒ approval
 *   (high); sampling ⇒ approval (medium).
 * - Every action with a `capsule_id`: blocked when the capsule is in
 *   `blockedCapsules`. Then `capsule_http_request`: http(s) URLs only, host
 *   rules on the host the URL parser sees; `capsule_file_access`: path rules;
 *   `capsule_process_spawn`: as `execute_command`; `secret_use`: host rules;
 *   all ⇒ approval (high).
 * - `mcp_permission_check`: a server in `blockedTools` is blocked. `read`,
 *   `write`, `net` and `import` without a value (blanket access) are blocked,
 *   since no rule can be checked against them. `read`/`write` values get path
 *   rules ⇒ approval (low/medium); `net` values host rules ⇒ as
 *   `network_request`; `import` of a path or `file:` URL gets path rules ⇒
 *   approval (low), of an http(s) URL or host the host rules ⇒ as
 *   `network_request` (risk low); `env` ⇒ approval (medium, high without a
 *   value); `run` ⇒ command rules on the program ⇒ approval (critical);
 *   `ffi` (path rules on a path value) and `sys` ⇒ approval (critical).
 * - `overlay_commit`: path rules on every path ⇒ approval (high).
 *
 * Before all of these, the kernel's home (`$ASTRID_HOME`, see
 * `protected_home.ts`) is hard-denied: any path an action names inside it
 * (outside the caller's own `home://` area), a write or delete of one of its
 * ancestors, and a command whose program or absolute path argument lies in
 * it are blocked (rule `protected_home`) in every mode, for every capsule.
 *
 * Security model: deny beats allow everywhere; paths are canonicalised and
 * hosts normalised (every IP spelling, IPv4-mapped IPv6, IDN) before any
 * rule sees them; relative paths, `..`, NUL, invalid hosts and invalid URLs
 * are blocked rather than guessed at; private and local addresses need
 * `allowPrivateNetworks`, and cloud metadata endpoints are blocked even
 * with it. Invalid config entries fail construction with `CONFIG_INVALID`.
 *
 * @module
 */
import type { Action, RiskLevel } from "./action.ts";
import { CommandRules } from "./command_rules.ts";
import { classifyHost, hostFromUrl, urlParts } from "./net_address.ts";
import { canonicalizePath, PathRules } from "./path_rules.ts";
import { ProtectedHome } from "./protected_home.ts";
import type { PolicyConfig, PolicyDecision } from "./policy_config.ts";
import { HostRules } from "./policy_hosts.ts";
import {
  ALLOWED,
  approval,
  block,
  type Blocked,
  checkPermission,
} from "./_policy_permission.ts";
import { checkMcpRequest } from "./_policy_mcp.ts";
import { mcpRequestProblem } from "./mcp_request.ts";

const NETWORK_SCHEMES = new Set(["http:", "https:", "ws:", "wss:", "ftp:"]);

/** The path of a `file:` URL, or `null` when it does not parse. */
function safeFileUrlPath(url: string): string | null {
  try {
    return decodeURIComponent(new URL(url).pathname);
  } catch {
    // silent-ok: an unparsable URL names no path here; the permission rules refuse it.
    return null;
  }
}

/** Shortens untrusted text quoted in a reason. */
function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

/**
 * The compiled security policy.
 *
 * @example Argv-aware commands, literal IPs, traversal
 * ```ts
 * import assert from "node:assert/strict";
 * import { SecurityPolicy } from "./policy.ts";
 * const policy = new SecurityPolicy({ blockedCommands: ["su"], deniedPaths: ["/etc/**"] });
 * assert.equal(policy.check({ type: "execute_command", command: "sum", args: ["x"] }).result, "requires_approval");
 * assert.equal(policy.check({ type: "execute_command", command: "/bin/su", args: [] }).result, "blocked");
 * assert.equal(policy.check({ type: "network_request", host: "0x7f000001", port: 80 }).result, "blocked");
 * assert.equal(policy.check({ type: "file_read", path: "/ws/../etc/passwd" }).result, "blocked");
 * ```
 */
export class SecurityPolicy {
  #commands: CommandRules;
  #paths: PathRules;
  #hosts: HostRules;
  #blockedTools: ReadonlySet<string>;
  #approvalTools: ReadonlySet<string>;
  #blockedCapsules: ReadonlySet<string>;
  #networkApproval: boolean;
  #home: ProtectedHome | null;

  /**
   * Compiles the settings.
   *
   * @param config The settings; see {@linkcode PolicyConfig} for defaults.
   * @throws {KernelError} `CONFIG_INVALID` naming the key and the entry when a
   * path pattern, host entry or command entry is invalid.
   * @throws {RangeError} When `maxArgumentSize` is negative or not an integer.
   */
  constructor(config: PolicyConfig = {}) {
    this.#commands = new CommandRules({
      blocked: config.blockedCommands ?? [],
      maxArgumentSize: config.maxArgumentSize ?? 0,
    });
    this.#paths = new PathRules({
      denied: config.deniedPaths ?? [],
      allowed: config.allowedPaths ?? [],
    });
    this.#hosts = new HostRules({
      denied: config.deniedHosts ?? [],
      allowed: config.allowedHosts ?? [],
      allowPrivateNetworks: config.allowPrivateNetworks === true,
    });
    this.#blockedTools = new Set(config.blockedTools ?? []);
    this.#approvalTools = new Set(config.approvalRequiredTools ?? []);
    this.#blockedCapsules = new Set(config.blockedCapsules ?? []);
    this.#networkApproval = config.requireApprovalForNetwork !== false;
    this.#home = config.protectedHome && config.protectedHome.length > 0
      ? new ProtectedHome({ roots: config.protectedHome })
      : null;
  }

  /**
   * Decides whether an action is blocked, allowed, or needs approval.
   *
   * @param action The action.
   * @param caller Who asks (`principal`: its own `home://` area stays reachable).
   * @returns The verdict; `blocked` carries the reason, rule and entry.
   */
  check(action: Action, caller: { principal?: string } = {}): PolicyDecision {
    const home = this.#protected(action, caller.principal);
    if (home !== null) return home;
    if (
      "capsule_id" in action && this.#blockedCapsules.has(action.capsule_id)
    ) {
      return {
        ...block(
          `Capsule '${action.capsule_id}' is in blocked_capsules`,
          "blocked_capsules",
        ),
        entry: action.capsule_id,
      };
    }
    switch (action.type) {
      case "file_read":
      case "file_write":
      case "file_delete":
      case "capsule_file_access":
        return this.#checkPaths([action.path]) ?? approval("high");
      case "overlay_commit":
        return this.#checkPaths(action.paths) ?? approval("high");
      case "execute_command":
      case "capsule_process_spawn":
        return this.#checkCommand(action.command, action.args) ??
          approval("high");
      case "network_request":
        if (
          !Number.isInteger(action.port) || action.port < 1 ||
          action.port > 65535
        ) {
          return block(
            `Port ${action.port} is not a valid TCP port`,
            "invalid_action",
          );
        }
        return this.#checkHost(action.host) ?? this.#network("medium");
      case "transmit_data":
        return this.#checkDestination(action.destination) ??
          this.#network("high");
      case "financial_transaction":
      case "access_control_change":
        return approval("critical");
      case "capability_grant":
      case "capsule_execution":
      case "capsule_net_bind":
        return approval("high");
      case "mcp_tool_call": {
        const problem = mcpRequestProblem(action);
        return problem === null
          ? this.#checkTool(action.server, action.tool)
          : block(problem, "invalid_action");
      }
      case "mcp_host_tool_call": {
        const problem = mcpRequestProblem(action);
        return problem === null
          ? this.#checkTool(action.capsule_id, action.tool)
          : block(problem, "invalid_action");
      }
      case "mcp_resource_read":
      case "mcp_prompt_get":
      case "mcp_elicitation":
      case "mcp_sampling":
        return checkMcpRequest(action, {
          blockedServer: (s) => this.#blockedTools.has(s),
          approvalServer: (s) => this.#approvalTools.has(s),
          url: (u) => this.#checkUrl(u, ["http:", "https:"]),
        });
      case "capsule_http_request":
        return this.#checkUrl(action.url, ["http:", "https:"]) ??
          approval("high");
      case "secret_use":
        return this.#checkHost(action.host) ?? approval("high");
      case "mcp_permission_check":
        if (this.#blockedTools.has(action.server)) {
          return {
            ...block(
              `MCP server '${action.server}' is blocked`,
              "blocked_tools",
            ),
            entry: action.server,
          };
        }
        return checkPermission(action, {
          paths: (p) => this.#checkPaths(p),
          host: (h) => this.#checkHost(h),
          command: (c) => this.#checkCommand(c, []),
          url: (u) => this.#checkUrl(u, ["http:", "https:"]),
          network: (r) => this.#network(r),
        });
      default: {
        const unknown: { type?: unknown } = action;
        return block(
          `Unknown action type ${JSON.stringify(unknown.type)}`,
          "invalid_action",
        );
      }
    }
  }

  #protected(action: Action, principal: string | undefined): Blocked | null {
    if (this.#home === null) return null;
    const home = this.#home;
    const at = (paths: readonly string[], destructive: boolean) => {
      for (const raw of paths) {
        const c = canonicalizePath(raw);
        if (!c.ok) continue; // refused later as invalid_path
        const hit = home.check(c.path, {
          destructive,
          ...(principal === undefined ? {} : { principal }),
        });
        if (hit !== null) return hit;
      }
      return null;
    };
    let hit = null;
    switch (action.type) {
      case "file_read":
        hit = at([action.path], false);
        break;
      case "file_write":
      case "file_delete":
        hit = at([action.path], true);
        break;
      case "capsule_file_access":
        hit = at([action.path], action.mode !== "read");
        break;
      case "overlay_commit":
        hit = at(action.paths, true);
        break;
      case "execute_command":
      case "capsule_process_spawn":
        hit = home.checkCommand(action.command, action.args);
        break;
      case "mcp_permission_check": {
        const v = action.value;
        if (v === null) break;
        if (action.permission === "run") {
          hit = home.checkCommand(v, []);
        } else if (
          action.permission === "read" || action.permission === "write" ||
          action.permission === "ffi" || action.permission === "import"
        ) {
          const p = v.startsWith("file://") ? safeFileUrlPath(v) : v;
          if (p !== null && p.startsWith("/")) {
            hit = at([p], action.permission === "write");
          }
        }
        break;
      }
    }
    return hit === null
      ? null
      : { ...block(hit.reason, "protected_home"), entry: hit.entry };
  }

  #network(risk: RiskLevel): PolicyDecision {
    return this.#networkApproval ? approval(risk) : ALLOWED;
  }

  #checkPaths(paths: readonly string[]): Blocked | null {
    for (const p of paths) {
      const hit = this.#paths.check(p);
      if (hit !== null) return { result: "blocked", ...hit };
    }
    return null;
  }

  #checkUrl(url: string, schemes: readonly string[]): Blocked | null {
    const protocol = urlParts(url)?.protocol;
    if (protocol === undefined) {
      return block(`URL '${clip(url)}' is not a valid URL`, "invalid_host");
    }
    if (!schemes.includes(protocol)) {
      return block(
        `URL scheme '${protocol}' is not allowed here`,
        "invalid_action",
      );
    }
    const host = hostFromUrl(url);
    if (host === null) {
      return block(`URL '${clip(url)}' has no valid host`, "invalid_host");
    }
    return this.#checkHost(host);
  }

  #checkDestination(destination: string): Blocked | null {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(destination)) {
      return this.#checkUrl(destination, [...NETWORK_SCHEMES]);
    }
    const target = destination.slice(destination.lastIndexOf("@") + 1);
    const c = classifyHost(target);
    if (c.kind !== "invalid" && /[.:]/.test(c.normalized)) {
      return this.#checkHost(target);
    }
    const hit = this.#hosts.checkOpaque(destination);
    return hit === null ? null : { result: "blocked", ...hit };
  }

  #checkHost(host: string): Blocked | null {
    const hit = this.#hosts.check(host);
    return hit === null ? null : { result: "blocked", ...hit };
  }

  #checkCommand(command: string, args: readonly string[]): Blocked | null {
    const hit = this.#commands.check(command, args);
    return hit === null ? null : { result: "blocked", ...hit };
  }

  #checkTool(server: string, tool: string): PolicyDecision {
    for (const name of [`${server}:${tool}`, server, tool]) {
      if (this.#blockedTools.has(name)) {
        return {
          ...block(
            `MCP tool '${server}:${tool}' is blocked by '${name}'`,
            "blocked_tools",
          ),
          entry: name,
        };
      }
    }
    const ask = this.#approvalTools.has(`${server}:${tool}`) ||
      this.#approvalTools.has(server);
    return ask ? approval("medium") : ALLOWED;
  }
}
