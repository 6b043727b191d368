/**
 * The daemon's sessions ({@linkcode SessionHub} of `kernel/api/session_hub.ts`):
 * persisted records (they survive a restart), one lazily booted capsule
 * runtime per session (kept until `reload()` or `close()`), turns through the
 * turn API, approval requests held until any API client answers them, and
 * the workspace overlay (diff, gated commit, discard).
 *
 * Security model:
 * - A workspace must lie inside the daemon's roots after resolving symlinks
 *   of both the workspace and each root (`WORKSPACE_OUTSIDE_ROOTS`).
 * - Approval requests (held, deferred, another node's) and their answers:
 *   `hub_approvals.ts` — an answer is checked against the options offered
 *   and audited before it takes effect; a deferred one is re-run by the gate.
 * - A client that closes a prompt stream only stops reading: the turn runs
 *   on (its approvals stay answerable); only `cancel()` stops it.
 * - Tool gateway calls (an MCP host's, `tool_gateway.ts`) run concurrently
 *   with each other, never with a turn or a commit (`TURN_BUSY`); while any
 *   runs, the session's approval requests are held for any API client, as a
 *   commit's are, and each one streams to the call it belongs to. Closing a
 *   call's stream cancels the call.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import { newSessionId, parseSessionId, type SessionId } from "../core/ids.ts";
import type { KernelHandle } from "../daemon/boot.ts";
import {
  createOverlayManager,
  type Runtime,
  startRuntime,
} from "../daemon/runtime.ts";
import { sessionCapsuleConfig, sessionModel } from "../daemon/session_setup.ts";
import type { ApiCaller, SessionHub } from "../api/session_hub.ts";
import type {
  ApprovalAnswerBody,
  ApprovalInfo,
  CreateSessionBody,
  GatewayItem,
  GatewayTool,
  ItemGetBody,
  PromptBody,
  PromptStreamEvent,
  SessionInfo,
  ToolCallBody,
  ToolCallStreamEvent,
  TurnStartEvent,
  WorkspaceChange,
} from "../api/contract.ts";
import type { Message } from "../../sdk/llm.ts";
import { AgentSession, type Turn } from "./agent_session.ts";
import { commitOverlayAnswering } from "./commit_answering.ts";
import { EventQueue, readQueue } from "./event_queue.ts";
import { approvalRouterOf } from "./approval_router.ts";
import { listGatewayTools } from "./tool_gateway.ts";
import { SessionCalls } from "./session_calls.ts";
import { ClusterRelay } from "./cluster_relay.ts";
import {
  HubApprovals,
  releaseTurnApprovals,
  trackTurnApproval,
} from "./hub_approvals.ts";
import type { Booted, Live } from "./_hub_live.ts";
import { idleToUnload } from "./_idle_runtimes.ts";
import { checkWorkspace, OUTSIDE_ROOTS_HINT } from "./_hub_workspace.ts";
import { waitToBootSpare } from "./_hub_spare.ts";
import {
  getGatewayItem,
  type ItemKind,
  listGatewayItems,
} from "./item_gateway.ts";
import {
  type SessionRecord,
  SessionRecords,
  titleOf,
} from "./session_records.ts";
import { fencedStore } from "../cluster/fenced_store.ts";
import { leaseGuardedFs } from "../cluster/lease_guarded_fs.ts";
import type { Store } from "../store/store.ts";
import type { SessionHubOptions } from "./session_hub_options.ts";
export type { SessionHubOptions } from "./session_hub_options.ts";

/**
 * Creates the daemon's session hub on a booted kernel.
 *
 * @param kernel The kernel (store, gate, audit, home).
 * @param options Roots, environment, engine availability, turn deadline.
 * @returns The hub; `close()` it before closing the kernel.
 */
export function createSessionHub(
  kernel: KernelHandle,
  options: SessionHubOptions,
): Promise<SessionHub & Pick<Hub, "spareReady">> {
  const hub = new Hub(kernel, options);
  if (options.spare !== undefined) hub.prepareSpare(options.spare);
  return Promise.resolve(hub);
}

/** A runtime booted ahead for the next session of a workspace. */
interface Spare {
  readonly workspace: string;
  readonly live: Live;
}

class Hub implements SessionHub {
  readonly #kernel: KernelHandle;
  readonly #options: SessionHubOptions;
  readonly #records: SessionRecords;
  readonly #overlays;
  readonly #lives = new Map<string, Live>();
  #spare: Spare | undefined;
  #closed = false;
  readonly #relay: ClusterRelay | undefined;
  readonly #approvals: HubApprovals;

  constructor(kernel: KernelHandle, options: SessionHubOptions) {
    this.#kernel = kernel;
    this.#options = options;
    this.#approvals = new HubApprovals({
      kernel,
      lives: () => this.#lives.values(),
      relay: () => this.#relay,
      broadcast: (live, event) => this.#broadcast(live, event),
    });
    this.#relay = options.cluster === undefined
      ? undefined
      : new ClusterRelay(options.cluster.bus, {
        principal: kernel.principal,
        answerLocal: (id, body, caller) =>
          this.#approvals.answerLive(id, body, caller),
        logger: kernel.ports.logger,
        clock: kernel.ports.clock,
      });
    this.#records = new SessionRecords(kernel.store, kernel.principal);
    const root = kernel.config.values.cluster.overlay_root;
    const leases = options.leases;
    // Overlays on shared storage: a write asks the session's lease first.
    this.#overlays = createOverlayManager(
      kernel,
      leases && root !== ""
        ? {
          fs: leaseGuardedFs(kernel.ports.fs, {
            root,
            principal: kernel.principal,
            ensure: (session) => leases.ensure(session),
          }),
        }
        : {},
    );
    // A lost lease (another node took the session): stop its turn; the
    // next use takes the lease again (or is refused) and reboots.
    options.leases?.onLost((id) => this.#lives.get(id)?.turn?.cancel());
    // A busy session (turn, tool calls, commit) is never offered to others.
    options.leases?.setBusyProbe((id) =>
      (this.#lives.get(id)?.busy ?? null) !== null
    );
  }

  async list(): Promise<SessionInfo[]> {
    return (await this.#records.list()).map((r) => this.#info(r));
  }

  async create(body: CreateSessionBody): Promise<SessionInfo> {
    this.#open();
    const workspace = await this.#checkWorkspace(body.workspace);
    const now = this.#kernel.ports.clock.now();
    // The spare booted ahead for this workspace becomes the new session.
    const spare = this.#spare?.workspace === workspace
      ? this.#spare
      : undefined;
    if (spare !== undefined) this.#spare = undefined;
    const record: SessionRecord = {
      id: spare?.live.id ?? newSessionId(this.#kernel.ports.random),
      workspace,
      created_at: now,
      updated_at: now,
      turns: 0,
      title: null,
    };
    await this.#records.put(record);
    const id = record.id;
    // Its prompt has come once the session is claimed for a turn (or ran one).
    this.prepareSpare(workspace, () => {
      const live = this.#lives.get(id);
      return live !== undefined &&
        (live.busy !== null || live.turnDone !== undefined);
    });
    return this.#info(record);
  }

  /**
   * The session booted ahead, waiting for the next `create` of its
   * workspace, once its runtime is up.
   *
   * @returns Its id and workspace, or `undefined` when none is ready.
   */
  async spareReady(): Promise<{ id: string; workspace: string } | undefined> {
    const spare = this.#spare;
    if (spare === undefined || spare.live.boot === undefined) return undefined;
    const booted = await spare.live.boot.then(() => true, () => false);
    return booted && this.#spare === spare
      ? { id: spare.live.id, workspace: spare.workspace }
      : undefined;
  }

  /**
   * Boots a runtime ahead for the next session of `workspace` (replacing an
   * earlier spare). It is an ordinary live session without a record until
   * `create` adopts it; a failure is silent here and surfaces on the first
   * use of the session that adopts it.
   *
   * @param workspace The workspace (absolute).
   * @param started Whether the first turn of the session just created has
   *   started: the boot waits for it (at most `SPARE_PROMPT_WAIT_MS`, `_hub_spare.ts`)
   *   and then for the turns to end.
   */
  prepareSpare(workspace: string, started?: () => boolean): void {
    if (this.#closed) return;
    const old = this.#spare;
    this.#spare = undefined;
    if (old !== undefined) {
      this.#lives.delete(old.live.id);
      void this.#closeRuntime(old.live).catch(() => {});
    }
    void (async () => {
      // Boot it while no turn runs (see `_hub_spare.ts`).
      await waitToBootSpare(this.#kernel.ports.clock, {
        closed: () => this.#closed,
        started,
        othersLive: old !== undefined || this.#lives.size > 0,
        anyBusy: () => [...this.#lives.values()].some((l) => l.busy !== null),
      });
      const real = await this.#checkWorkspace(workspace);
      if (this.#closed || this.#spare !== undefined) return;
      const id = newSessionId(this.#kernel.ports.random);
      const live = this.#live(id);
      this.#spare = { workspace: real, live };
      await this.#booted(live, { id, workspace: real });
    })().catch(() => {/* silent-ok: surfaces when the session is used */});
  }

  async get(id: string): Promise<SessionInfo> {
    return this.#info(await this.#record(id));
  }

  async delete(id: string): Promise<void> {
    const record = await this.#record(id);
    const live = this.#live(record.id);
    this.#claim(live, "delete");
    try {
      try {
        const { agent } = await this.#booted(live, record);
        await agent.clearHistory();
      } catch (err) {
        // silent-ok: no session capsule (or it fails to boot) holds no history to clear.
        this.#kernel.ports.logger.log("warn", "session history not cleared", {
          session: record.id,
          code: err instanceof KernelError ? err.code : "INTERNAL",
        });
      }
      await this.#closeRuntime(live);
      const p = this.#kernel.principal;
      await this.#kernel.ports.fs.remove(
        this.#overlays.overlayDir(p, record.id),
        { recursive: true },
      ).catch((err) => {
        if (!KernelError.is(err, "NOT_FOUND")) throw err;
      });
      this.#overlays.release(p, record.id);
      await this.#records.delete(record.id);
      for (const q of live.subscribers) q.end();
      this.#lives.delete(record.id);
      await this.#options.leases?.release(record.id, { forget: true })
        .catch(() => {});
    } finally {
      live.busy = null;
    }
  }

  async messages(id: string): Promise<Message[]> {
    const record = await this.#record(id);
    const { agent } = await this.#booted(this.#live(record.id), record);
    return await agent.history();
  }

  async prompt(
    id: string,
    body: PromptBody,
    signal: AbortSignal,
  ): Promise<AsyncIterable<PromptStreamEvent>> {
    this.#open();
    if (typeof body.text !== "string" || body.text.trim() === "") {
      throw new KernelError("INVALID_INPUT", "Cannot start a turn: no text");
    }
    const record = await this.#record(id);
    const live = this.#live(record.id);
    this.#claim(live, "turn");
    let agent: AgentSession;
    let turn: Turn;
    try {
      const booted = await this.#booted(live, record);
      agent = body.provider || body.model
        ? new AgentSession(this.#kernel, booted.runtime, {
          ...this.#agentOptions(),
          ...(body.provider ? { provider: body.provider } : {}),
          ...(body.model ? { model: body.model } : {}),
        })
        : booted.agent;
      const now = this.#kernel.ports.clock.now();
      await this.#records.put({
        ...record,
        turns: record.turns + 1,
        updated_at: now,
        title: record.title ?? titleOf(body.text),
      });
      turn = agent.turn(body.text);
    } catch (err) {
      live.busy = null;
      throw err;
    }
    live.turn = turn;
    const stream = new EventQueue<PromptStreamEvent>();
    live.streams.add(stream);
    const start: TurnStartEvent = {
      type: "turn_start",
      turn_id: turn.id,
      session: record.id,
    };
    this.#broadcast(live, start);
    live.turnDone = this.#pump(live, agent, turn);
    return readQueue(stream, signal, () => live.streams.delete(stream));
  }

  async tools(
    id: string,
    capsules?: readonly string[],
  ): Promise<GatewayTool[]> {
    this.#open();
    const record = await this.#record(id);
    const { runtime } = await this.#booted(this.#live(record.id), record);
    return await listGatewayTools(
      { kernel: this.#kernel, runtime },
      capsules ? { capsules } : {},
    );
  }

  async callTool(
    id: string,
    body: ToolCallBody,
    signal: AbortSignal,
  ): Promise<AsyncIterable<ToolCallStreamEvent>> {
    this.#open();
    const record = await this.#record(id);
    const live = this.#live(record.id);
    this.#callIn(live);
    let runtime: Runtime;
    try {
      runtime = (await this.#booted(live, record)).runtime;
    } catch (err) {
      this.#callOut(live);
      throw err;
    }
    return live.calls.run({ kernel: this.#kernel, runtime }, body, {
      signal,
      done: () => this.#callOut(live),
    });
  }

  async items(
    id: string,
    kind: ItemKind,
    capsules?: readonly string[],
  ): Promise<GatewayItem[]> {
    this.#open();
    const record = await this.#record(id);
    const { runtime } = await this.#booted(this.#live(record.id), record);
    return await listGatewayItems(runtime, {
      kind,
      ...(capsules ? { capsules } : {}),
    });
  }

  async getItem(
    id: string,
    kind: ItemKind,
    body: ItemGetBody,
    signal: AbortSignal,
  ): Promise<unknown> {
    this.#open();
    const record = await this.#record(id);
    const live = this.#live(record.id);
    this.#callIn(live);
    try {
      const { runtime } = await this.#booted(live, record);
      return await getGatewayItem(runtime, {
        kind,
        key: body.key,
        signal,
        ...(body.arguments ? { arguments: body.arguments } : {}),
        ...(body.capsules ? { capsules: body.capsules } : {}),
      });
    } finally {
      this.#callOut(live);
    }
  }

  async cancel(id: string): Promise<void> {
    const record = await this.#record(id);
    const turn = this.#lives.get(record.id)?.turn;
    if (turn === undefined && this.#options.leases) {
      // A turn of another node is cancelled there: say where.
      const node = await this.#options.leases.holder(record.id);
      if (node !== null) {
        throw new KernelError(
          "SESSION_ELSEWHERE",
          `Session ${record.id} is served by node ${node}: cancel its turn there`,
          { data: { node } },
        );
      }
    }
    turn?.cancel();
  }

  events(id: string, signal: AbortSignal): AsyncIterable<PromptStreamEvent> {
    const live = this.#live(parseSessionId(id));
    const queue = new EventQueue<PromptStreamEvent>();
    live.subscribers.add(queue);
    // Events of the session while another node holds it.
    const unwatch = this.#relay?.watch(live.id, (e) => queue.push(e));
    return readQueue(queue, signal, () => {
      unwatch?.();
      live.subscribers.delete(queue);
    });
  }

  approvals(session?: string): Promise<ApprovalInfo[]> {
    return this.#approvals.list(session);
  }

  answer(
    requestId: string,
    body: ApprovalAnswerBody,
    caller: ApiCaller,
  ): Promise<void> {
    return this.#approvals.answer(requestId, body, caller);
  }

  async diff(id: string): Promise<WorkspaceChange[]> {
    const record = await this.#record(id);
    const overlay = await this.#overlay(record);
    return (await overlay.diff()).map((c) => ({
      change: c.change,
      path: c.path,
      ...(c.diff === null ? {} : { diff: c.diff }),
    }));
  }

  async commit(id: string, paths?: readonly string[]): Promise<string[]> {
    const record = await this.#record(id);
    const live = this.#live(record.id);
    this.#claim(live, "workspace");
    try {
      const overlay = await this.#overlay(record);
      return await commitOverlayAnswering(
        this.#kernel,
        record.id,
        overlay,
        (request, signal) => this.#approvals.hold(live, request, signal),
        paths ? { paths } : {},
      );
    } finally {
      live.busy = null;
    }
  }

  async discard(id: string, paths?: readonly string[]): Promise<string[]> {
    const record = await this.#record(id);
    const live = this.#live(record.id);
    this.#claim(live, "workspace");
    try {
      const overlay = await this.#overlay(record);
      return await overlay.discard(paths ? { paths } : {});
    } finally {
      live.busy = null;
    }
  }

  async reload(): Promise<void> {
    const spare = this.#spare;
    this.#spare = undefined;
    if (spare !== undefined) {
      this.#lives.delete(spare.live.id);
      await this.#closeRuntime(spare.live);
    }
    for (const live of this.#lives.values()) {
      if (live.busy === null) await this.#closeRuntime(live);
      else live.stale = true;
    }
  }

  async counts(): Promise<{ known: number; live: number }> {
    const known = (await this.#records.list()).length;
    const live =
      [...this.#lives.values()].filter((l) => l.boot && l !== this.#spare?.live)
        .length;
    return { known, live };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#spare = undefined;
    await this.#approvals.deferPending();
    this.#relay?.close();
    for (const live of this.#lives.values()) {
      live.turn?.cancel();
      await live.turnDone;
      for (const q of live.subscribers) q.end();
      await this.#closeRuntime(live);
    }
    this.#lives.clear();
  }

  #open(): void {
    if (this.#closed) {
      throw new KernelError("DAEMON_UNAVAILABLE", "The daemon is stopping");
    }
  }

  #info(r: SessionRecord): SessionInfo {
    const live = this.#lives.get(r.id);
    const pending = live
      ? [...live.approvals.values()].filter((p) => p.waiting()).length
      : 0;
    return {
      id: r.id,
      workspace: r.workspace,
      created_at: r.created_at,
      updated_at: r.updated_at,
      turns: r.turns,
      title: r.title,
      busy: live?.busy === "turn" || live?.busy === "workspace",
      pending_approvals: pending,
    };
  }

  async #record(id: string): Promise<SessionRecord> {
    const r = typeof id === "string" ? await this.#records.get(id) : null;
    if (r === null) {
      throw new KernelError(
        "NOT_FOUND",
        `No session '${
          String(id).slice(0, 80)
        }' (list them: astrid sessions list)`,
      );
    }
    return r;
  }

  #live(id: SessionId): Live {
    let live = this.#lives.get(id);
    if (live === undefined) {
      live = {
        id,
        boot: undefined,
        busy: null,
        turn: undefined,
        turnDone: undefined,
        stale: false,
        lastUsed: 0,
        calls: new SessionCalls(() =>
          approvalRouterOf(this.#kernel.security.approvals).listen(
            id,
            (request, { signal }) =>
              this.#approvals.hold(live!, request, signal),
          )
        ),
        approvals: new Map(),
        streams: new Set(),
        subscribers: new Set(),
      };
      this.#lives.set(id, live);
    }
    return live;
  }

  #claim(live: Live, what: NonNullable<Live["busy"]>): void {
    if (what === "tools" && live.busy === "tools") return;
    if (live.busy !== null) {
      throw new KernelError(
        "TURN_BUSY",
        live.busy === "turn"
          ? `Session ${live.id} is running a turn (cancel it or wait)`
          : live.busy === "tools"
          ? `Session ${live.id} is serving tool calls of an MCP host; try again when they are done`
          : `Session ${live.id} is busy (${live.busy}); try again when it is done`,
      );
    }
    live.busy = what;
  }

  /**
   * Counts a tool gateway call in; the first one registers the session's
   * approval listener (held for any API client, like a commit's).
   */
  #callIn(live: Live): void {
    this.#claim(live, "tools");
    live.calls.enter();
  }

  /** Counts a tool gateway call out; the last one frees the session. */
  #callOut(live: Live): void {
    if (!live.calls.leave()) return;
    live.busy = null;
    if (live.stale) void this.#closeRuntime(live).catch(() => {});
  }

  #checkWorkspace(raw: unknown): Promise<string> {
    return checkWorkspace(this.#kernel.ports.fs, raw, this.#options.roots);
  }

  #agentOptions() {
    return {
      ...sessionModel(this.#kernel, this.#options.env),
      ...(this.#options.turnTimeoutMs
        ? { turnTimeoutMs: this.#options.turnTimeoutMs }
        : {}),
    };
  }

  /**
   * On a cluster node: makes sure this node holds the session's lease
   * (`SESSION_ELSEWHERE` while another live node does). When the lease was
   * taken now, whatever this node had of the session from an earlier lease
   * (runtime, open overlay) is dropped: another node may have changed it.
   *
   * @returns The session's fenced store, or `undefined` on a single node.
   */
  async #lease(live: Live): Promise<Store | undefined> {
    const leases = this.#options.leases;
    if (leases === undefined) return undefined;
    const { lease, taken } = await leases.acquire(live.id);
    if (taken) {
      if (live.boot !== undefined) await this.#closeRuntime(live);
      this.#overlays.release(this.#kernel.principal, live.id);
    }
    return fencedStore(this.#kernel.store, lease);
  }

  async #booted(
    live: Live,
    record: Pick<SessionRecord, "id" | "workspace">,
  ): Promise<Booted> {
    const store = await this.#lease(live);
    live.lastUsed = this.#kernel.ports.clock.now();
    const booted = await this.#boot(live, record, store);
    this.#unloadIdle();
    return booted;
  }

  /** Closes the idle runtimes beyond the ones kept booted (`_idle_runtimes.ts`). */
  #unloadIdle(): void {
    const keep = this.#options.keepIdleRuntimes ??
      this.#kernel.config.values.sessions.keep_booted;
    const lives = this.#lives.values();
    for (const live of idleToUnload(lives, keep, this.#spare?.live)) {
      void this.#closeRuntime(live).catch(() => {});
    }
  }

  #boot(
    live: Live,
    record: Pick<SessionRecord, "id" | "workspace">,
    store: Store | undefined,
  ): Promise<Booted> {
    if (live.boot) return live.boot;
    const kernel = this.#kernel;
    const boot = (async (): Promise<Booted> => {
      // The workspace may have been swapped for a symlink since the
      // session was created: it must still be the same directory, inside
      // the roots.
      const now = await this.#checkWorkspace(record.workspace);
      if (now !== record.workspace) {
        throw new KernelError(
          "WORKSPACE_OUTSIDE_ROOTS",
          `The workspace of session ${record.id} now resolves elsewhere: ${OUTSIDE_ROOTS_HINT}`,
        );
      }
      const capsuleConfig = await sessionCapsuleConfig(
        kernel,
        this.#options.env,
        this.#options.cwd ?? "/",
      );
      const runtime = await startRuntime(kernel, {
        workspace: record.workspace,
        session: record.id,
        capsuleConfig,
        overlays: this.#overlays,
        ...(store ? { store } : {}),
        ...(this.#options.mcpAvailable === false ? { bubblewrap: null } : {}),
      });
      try {
        const report = await runtime.boot();
        for (const r of report.refused) {
          kernel.ports.logger.log("warn", "capsule refused", {
            session: record.id,
            capsule: r.capsule,
            code: r.code,
          });
        }
        if (report.loaded.length === 0) {
          throw new KernelError(
            "NOT_FOUND",
            "No capsule is installed: run 'astrid init' to install the default distro",
          );
        }
      } catch (err) {
        await runtime.close().catch(() => {});
        throw err;
      }
      return {
        runtime,
        agent: new AgentSession(kernel, runtime, this.#agentOptions()),
      };
    })();
    live.boot = boot;
    boot.catch(() => {
      if (live.boot === boot) live.boot = undefined;
    });
    return boot;
  }

  async #closeRuntime(live: Live): Promise<void> {
    const boot = live.boot;
    live.boot = undefined;
    live.stale = false;
    const booted = await boot?.catch(() => null);
    await booted?.runtime.close();
  }

  async #overlay(record: SessionRecord) {
    await this.#lease(this.#live(record.id));
    return await this.#overlays.forSession(
      this.#kernel.principal,
      record.id,
      { workspace: record.workspace },
    );
  }

  #broadcast(live: Live, event: PromptStreamEvent): void {
    for (const q of live.streams) q.push(event);
    for (const q of live.subscribers) q.push(event);
    this.#relay?.event(live.id, event);
  }

  async #pump(live: Live, agent: AgentSession, turn: Turn): Promise<void> {
    const held = new Set<string>();
    try {
      for await (const e of turn) {
        trackTurnApproval(live, agent, e, held, {
          now: this.#kernel.ports.clock.now(),
          relay: this.#relay,
        });
        this.#broadcast(live, e);
      }
    } finally {
      releaseTurnApprovals(live, held, this.#relay);
      const record = await this.#records.get(live.id).catch(() => null);
      if (record) {
        await this.#records.put({
          ...record,
          updated_at: this.#kernel.ports.clock.now(),
        }).catch(() => {});
      }
      // The session is free before its readers see the end of the stream:
      // a client may prompt again as soon as it read `final`.
      if (live.stale) await this.#closeRuntime(live).catch(() => {});
      live.turn = undefined;
      live.turnDone = undefined;
      live.busy = null;
      for (const q of live.streams) q.end();
      live.streams.clear();
      this.#unloadIdle();
    }
  }
}
