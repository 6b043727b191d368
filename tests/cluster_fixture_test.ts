/**
 * Several kernel nodes on one machine sharing one PostgreSQL database: each
 * node is a `deno run tests/fixtures/cluster_node.ts` process with its own
 * `ASTRID_HOME`, the same `store.url`, the same runtime key (copied from the
 * first node's home, as `docs/cluster.md` prescribes) and the same
 * `config.toml`. The driver sends JSON commands and awaits their replies.
 *
 * @module
 */
import { DENO_DIR } from "./cli_fixture_test.ts";
import type { PgCluster } from "./pg_fixture_test.ts";

const NODE_SCRIPT = new URL("./fixtures/cluster_node.ts", import.meta.url);

/** A reply of a node: `ok` with fields, or a failure code. */
// deno-lint-ignore no-explicit-any
export type Reply = { ok: boolean; code?: string; [k: string]: any };

/** One running node. */
export interface ClusterNode {
  /** Its `ASTRID_HOME`. */
  readonly home: string;
  /** Sends one command and waits for its reply. */
  send(op: string, args?: Record<string, unknown>): Promise<Reply>;
  /** SIGKILLs the process. */
  kill(): void;
  /** Asks the node to exit and waits for it. */
  close(): Promise<void>;
}

/** The running nodes; `await using` stops them and deletes their homes. */
export interface Cluster extends AsyncDisposable {
  readonly nodes: readonly ClusterNode[];
}

/**
 * Starts `count` nodes on the PostgreSQL cluster.
 *
 * @param pg The database.
 * @param count How many nodes.
 * @param configToml The `config.toml` every node gets.
 * @returns The cluster.
 */
export async function startCluster(
  pg: PgCluster,
  count: number,
  configToml = "",
): Promise<Cluster> {
  const homes: string[] = [];
  const nodes: ClusterNode[] = [];
  const dispose = async () => {
    await Promise.allSettled(nodes.map((n) => n.close()));
    for (const h of homes) await Deno.remove(h, { recursive: true });
  };
  const prepare = async (i: number) => {
    const home = await Deno.makeTempDir({ prefix: `astrid-node${i}-` });
    homes.push(home);
    await Deno.mkdir(`${home}/etc`, { mode: 0o700 });
    await Deno.writeTextFile(`${home}/etc/config.toml`, configToml);
    if (i > 0) {
      // One cluster, one runtime identity: the first node's key.
      await Deno.mkdir(`${home}/keys`, { mode: 0o700 });
      await Deno.copyFile(
        `${homes[0]}/keys/runtime.key`,
        `${home}/keys/runtime.key`,
      );
      await Deno.chmod(`${home}/keys/runtime.key`, 0o600);
    }
    return home;
  };
  try {
    // The first node creates the key (and the schema); the others start together.
    nodes.push(await startNode(pg, await prepare(0)));
    const rest = [];
    for (let i = 1; i < count; i++) rest.push(await prepare(i));
    const started = await Promise.allSettled(
      rest.map((home) => startNode(pg, home)),
    );
    for (const s of started) {
      if (s.status === "fulfilled") nodes.push(s.value);
    }
    for (const s of started) if (s.status === "rejected") throw s.reason;
  } catch (err) {
    await dispose();
    throw err;
  }
  return { nodes, [Symbol.asyncDispose]: dispose };
}

async function startNode(pg: PgCluster, home: string): Promise<ClusterNode> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-kv", NODE_SCRIPT.pathname],
    env: {
      ASTRID_HOME: home,
      HOME: home,
      ASTRID_STORE_URL: pg.url,
      ASTRID_STORE_PASSWORD: pg.password,
      DENO_DIR,
    },
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  const waiting = new Map<number, (r: Reply) => void>();
  let ready!: () => void;
  let failed!: (e: Error) => void;
  const started = new Promise<void>((res, rej) => {
    ready = res;
    failed = rej;
  });
  let nextId = 1;
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    const err = new Error(`node ${home} exited (${s.code})`);
    failed(err);
    for (const [, resolve] of waiting) {
      resolve({ ok: false, code: "NODE_EXITED", message: err.message });
    }
    waiting.clear();
    return s;
  });
  void (async () => {
    let buffer = "";
    for await (
      const chunk of child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const msg = JSON.parse(line);
        if (msg.ready) ready();
        else {
          waiting.get(msg.id)?.(msg);
          waiting.delete(msg.id);
        }
      }
    }
  })();
  await started;
  const send = (op: string, args: Record<string, unknown> = {}) => {
    if (exited) {
      return Promise.resolve<Reply>({ ok: false, code: "NODE_EXITED" });
    }
    const id = nextId++;
    const reply = new Promise<Reply>((resolve) => waiting.set(id, resolve));
    void writer.write(
      new TextEncoder().encode(JSON.stringify({ id, op, ...args }) + "\n"),
    ).catch(() => {});
    return reply;
  };
  return {
    home,
    send,
    kill() {
      if (!exited) child.kill("SIGKILL");
    },
    async close() {
      if (!exited) {
        // A node that does not exit within 10 s is killed.
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        try {
          await Promise.race([send("exit"), status]);
          await writer.close().catch(() => {});
          await status;
        } finally {
          clearTimeout(timer);
        }
      }
      await status;
    },
  };
}
