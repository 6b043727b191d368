/**
 * A private, throw-away PostgreSQL cluster for tests: `initdb` into a temp
 * directory, a server listening only on a unix socket in that directory (no
 * TCP port), password (SCRAM) authentication for one user, stopped and
 * deleted in `finally`. As root, the server runs as the `postgres` user
 * through `runuser` (PostgreSQL refuses to run as root).
 *
 * When PostgreSQL is not installed, {@linkcode pgTest} registers the test as
 * ignored with a message — unless `CI=true`, where it fails: CI must run them.
 *
 * @module
 */
import { needsTest } from "./needs_fixture_test.ts";
/** Where Debian's PostgreSQL 15 binaries live (override with `ASTRID_PG_BIN`). */
export const PG_BIN = Deno.env.get("ASTRID_PG_BIN") ??
  "/usr/lib/postgresql/15/bin";

/** One running cluster. */
export interface PgCluster extends AsyncDisposable {
  /** A password-free URL of its `postgres` database, over the unix socket. */
  readonly url: string;
  /** The password of user `astrid`. */
  readonly password: string;
  /** Options for a direct client (the `postgres` package) on `database`. */
  client(database: string): {
    host: string;
    port: number;
    user: string;
    database: string;
    password: string;
    max: number;
    onnotice: () => void;
  };
  /** Stops the server (fast shutdown: open connections are cut). */
  stop(): Promise<void>;
  /** Starts the server again after {@linkcode PgCluster.stop}. */
  start(): Promise<void>;
  /** Stops the server and deletes the cluster. Idempotent. */
  destroy(): Promise<void>;
}

/**
 * Why PostgreSQL cannot be used here, or `undefined` when it can.
 *
 * @returns The reason, for the skip message.
 */
export function pgMissing(): string | undefined {
  try {
    Deno.statSync(`${PG_BIN}/initdb`);
    Deno.statSync(`${PG_BIN}/pg_ctl`);
    return undefined;
  } catch {
    return `PostgreSQL is not installed (no ${PG_BIN}/initdb; apt-get install postgresql)`;
  }
}

/**
 * Registers a test that needs PostgreSQL: ignored with a message when it is
 * missing on a developer's machine, failing when it is missing under `CI=true`.
 *
 * @param name The test name.
 * @param fn The test (start a cluster with {@linkcode startPg}).
 */
export function pgTest(
  name: string,
  fn: (t: Deno.TestContext) => Promise<void>,
): void {
  needsTest("PostgreSQL tests", pgMissing(), name, fn);
}

async function run(cmd: string, args: string[], user?: string): Promise<void> {
  const [bin, argv] = user
    ? ["runuser", ["-u", user, "--", cmd, ...args]]
    : [cmd, args];
  const out = await new Deno.Command(bin, {
    args: argv,
    stdout: "piped",
    stderr: "piped",
    env: { LC_ALL: "C" },
  }).output();
  if (!out.success) {
    throw new Error(
      `${cmd} ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
}

/**
 * Creates and starts a private cluster.
 *
 * @param options `durable`: keep fsync and synchronous commit on (benchmarks);
 *   by default tests trade durability for speed.
 * @returns The running cluster; `await using` destroys it.
 */
export async function startPg(
  options: { durable?: boolean } = {},
): Promise<PgCluster> {
  // `id -u`, not Deno.uid(): the test task grants no --allow-sys.
  const id = await new Deno.Command("id", { args: ["-u"], stdout: "piped" })
    .output();
  const root = new TextDecoder().decode(id.stdout).trim() === "0";
  const user = root ? "postgres" : undefined;
  const dir = await Deno.makeTempDir({ prefix: "astrid-pg-" });
  const password = crypto.randomUUID();
  const port = 20_000 + Math.floor(Math.random() * 40_000);
  if (root) await run("chown", ["postgres:postgres", dir]);
  await Deno.writeTextFile(`${dir}/pw`, password);
  if (root) await run("chown", ["postgres:postgres", `${dir}/pw`]);
  await run(`${PG_BIN}/initdb`, [
    "-D",
    `${dir}/data`,
    "-U",
    "astrid",
    "--auth=scram-sha-256",
    `--pwfile=${dir}/pw`,
    "--no-sync",
    "-E",
    "UTF8",
  ], user);
  await Deno.remove(`${dir}/pw`);
  const serverOptions = [
    `-k ${dir}`,
    `-p ${port}`,
    "-c listen_addresses=''",
    ...(options.durable ? [] : [
      "-c fsync=off",
      "-c synchronous_commit=off",
      "-c full_page_writes=off",
    ]),
    "-c max_connections=60",
  ].join(" ");
  const ctl = (args: string[]) => run(`${PG_BIN}/pg_ctl`, args, user);
  const start = () =>
    ctl([
      "-D",
      `${dir}/data`,
      "-l",
      `${dir}/log`,
      "-w",
      "-o",
      serverOptions,
      "start",
    ]);
  const stop = () => ctl(["-D", `${dir}/data`, "-w", "-m", "fast", "stop"]);
  await start();
  let running = true;
  let gone = false;
  const cluster: PgCluster = {
    url: `postgres://astrid@localhost:${port}/postgres?host=${dir}`,
    password,
    client: (database) => ({
      host: dir,
      port,
      user: "astrid",
      database,
      password,
      max: 1,
      onnotice: () => {},
    }),
    async stop() {
      if (!running) return;
      await stop();
      running = false;
    },
    async start() {
      if (running) return;
      await start();
      running = true;
    },
    async destroy() {
      if (gone) return;
      gone = true;
      try {
        if (running) await stop();
        running = false;
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
    [Symbol.asyncDispose]() {
      return cluster.destroy();
    },
  };
  return cluster;
}
