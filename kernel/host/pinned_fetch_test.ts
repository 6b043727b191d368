import assert from "node:assert/strict";
import * as path from "node:path";
import { createPinnedFetch } from "./pinned_fetch.ts";

const P: Deno.PermissionOptionsObject = {
  read: true,
  write: true,
  net: true,
  run: ["openssl"],
};

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "astrid-pin-" });
  try {
    await fn(dir);
    assert.deepEqual(
      await Array.fromAsync(Deno.readDir(dir)),
      [],
      "the per-call socket is removed",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const signal = () => new AbortController().signal;

Deno.test({
  name:
    "`createPinnedFetch()` sends an http request to the pinned address, never resolving the URL's name, with the URL's Host",
  permissions: P,
  async fn() {
    const seen: string[] = [];
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (req) => {
        seen.push(
          `${req.method} ${req.headers.get("host")} ${await req.text()}`,
        );
        return Response.json({ path: new URL(req.url).pathname });
      },
    );
    try {
      await withDir(async (socketDir) => {
        const pinned = createPinnedFetch({ socketDir });
        // `.invalid` never resolves (RFC 6761): only the pin can reach it.
        const url = new URL(`http://api.invalid:${server.addr.port}/v1/x?q=1`);
        const res = await pinned(url, {
          method: "POST",
          headers: { "content-type": "text/plain" },
          body: "hello",
          signal: signal(),
        }, { address: "127.0.0.1" });
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), { path: "/v1/x" });
        assert.deepEqual(seen, [`POST api.invalid:${server.addr.port} hello`]);
      });
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test({
  name:
    "`createPinnedFetch()` closes its proxy and removes its socket when the body is cancelled unread",
  permissions: P,
  async fn() {
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response("x".repeat(1 << 20)),
    );
    try {
      await withDir(async (socketDir) => {
        const pinned = createPinnedFetch({ socketDir });
        const res = await pinned(
          new URL(`http://big.invalid:${server.addr.port}/`),
          { method: "GET", headers: {}, signal: signal() },
          { address: "127.0.0.1" },
        );
        assert.equal(res.status, 200);
        await res.body!.cancel();
      });
    } finally {
      await server.shutdown();
    }
  },
});

async function openssl(args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", {
    args,
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
}

/** A throwaway CA and a leaf certificate for `name`, signed by it. */
async function certificates(dir: string, name: string) {
  const f = (n: string) => path.join(dir, n);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
  await openssl([
    "req",
    "-x509",
    ...ec,
    "-nodes",
    "-keyout",
    f("ca.key"),
    "-out",
    f("ca.pem"),
    "-days",
    "1",
    "-subj",
    "/CN=astrid test CA",
  ]);
  await openssl([
    "req",
    ...ec,
    "-nodes",
    "-keyout",
    f("leaf.key"),
    "-out",
    f("leaf.csr"),
    "-subj",
    `/CN=${name}`,
  ]);
  await Deno.writeTextFile(
    f("leaf.ext"),
    `subjectAltName=DNS:${name}\nbasicConstraints=CA:FALSE\n`,
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    f("leaf.csr"),
    "-CA",
    f("ca.pem"),
    "-CAkey",
    f("ca.key"),
    "-CAcreateserial",
    "-out",
    f("leaf.pem"),
    "-days",
    "1",
    "-extfile",
    f("leaf.ext"),
  ]);
  return {
    ca: await Deno.readTextFile(f("ca.pem")),
    key: await Deno.readTextFile(f("leaf.key")),
    cert: await Deno.readTextFile(f("leaf.pem")),
  };
}

Deno.test({
  name:
    "`createPinnedFetch()` speaks TLS to the pinned address with the URL's name for SNI and certificate checks",
  permissions: P,
  async fn() {
    const certDir = await Deno.makeTempDir({ prefix: "astrid-pin-cert-" });
    try {
      const { ca, key, cert } = await certificates(certDir, "secure.invalid");
      const server = Deno.serve(
        { hostname: "127.0.0.1", port: 0, key, cert, onListen() {} },
        (req) => new Response(`tls ${req.headers.get("host")}`),
      );
      try {
        await withDir(async (socketDir) => {
          const pinned = createPinnedFetch({ socketDir, caCerts: [ca] });
          const port = server.addr.port;
          const ok = await pinned(
            new URL(`https://secure.invalid:${port}/`),
            { method: "GET", headers: {}, signal: signal() },
            { address: "127.0.0.1" },
          );
          assert.equal(await ok.text(), `tls secure.invalid:${port}`);
          // The same address under another name fails the certificate check.
          await assert.rejects(
            pinned(
              new URL(`https://other.invalid:${port}/`),
              { method: "GET", headers: {}, signal: signal() },
              { address: "127.0.0.1" },
            ),
          );
        });
      } finally {
        await server.shutdown();
      }
    } finally {
      await Deno.remove(certDir, { recursive: true });
    }
  },
});
