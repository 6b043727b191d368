/**
 * The status round trip through a real daemon's socket (issue 14's
 * benchmark list): one `GET /v1/status` with bearer auth, JSON both ways.
 * `deno task bench:micro` runs it (absolute times only).
 */
import type { StatusInfo } from "../mod.ts";
import {
  clientOf,
  spawnDaemonProcess,
  tempHome,
} from "./daemon_fixture_test.ts";

const home = await tempHome();
const daemon = await spawnDaemonProcess(home);
const client = await clientOf(home);

globalThis.addEventListener("unload", () => {
  client.close();
  try {
    Deno.kill(daemon.pid, "SIGKILL");
  } catch {
    // silent-ok: already gone
  }
  Deno.removeSync(home.dir, { recursive: true });
});

Deno.bench("daemon: status round trip over the Unix socket", async () => {
  await client.call<StatusInfo>("status");
});
