import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import type { PrincipalId } from "../core/ids.ts";
import { makeAbi } from "./_abi_fixture_test.ts";

const P = { read: true, write: true, env: true, run: true, net: true } as const;
const code = (c: string) => (e: unknown) => KernelError.is(e) && e.code === c;

async function withServer(
  fn: (base: string, seen: Headers[]) => Promise<void>,
): Promise<void> {
  const seen: Headers[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => {
      seen.push(req.headers);
      if (new URL(req.url).pathname === "/redirect") {
        return new Response(null, {
          status: 302,
          headers: { location: "http://169.254.169.254/" },
        });
      }
      return Response.json({ ok: true, method: req.method });
    },
  );
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, seen);
  } finally {
    await server.shutdown();
  }
}

/** Net grants name their port: rewrite `127.0.0.1` to the test server's. */
function grantServer(
  f: Awaited<ReturnType<typeof makeAbi>>,
  base: string,
): void {
  const g = f.grants.get("fs")!;
  const port = new URL(base).port;
  f.grants.set("fs", {
    ...g,
    net: g.net.map((e) => e === "127.0.0.1" || e === "*" ? `${e}:${port}` : e),
  });
}

Deno.test({
  name:
    "host call http_request reaches a granted host and returns status, headers and body",
  permissions: P,
  async fn() {
    const f = await makeAbi({
      policy: { allowPrivateNetworks: true },
      grants: { fs: { net: ["127.0.0.1"] } },
    });
    try {
      await withServer(async (base) => {
        grantServer(f, base);
        const r = await f.call("http_request", {
          url: `${base}/x`,
          method: "POST",
          body: "{}",
        }) as {
          status: number;
          body: string;
        };
        assert.equal(r.status, 200);
        assert.deepEqual(JSON.parse(r.body), { ok: true, method: "POST" });
      });
    } finally {
      await f.dispose();
    }
  },
});

Deno.test({
  name:
    "host call http_request refuses loopback by policy unless private networks are allowed",
  permissions: P,
  async fn() {
    const f = await makeAbi({ grants: { fs: { net: ["*"] } } });
    try {
      await withServer(async (base, seen) => {
        grantServer(f, base);
        await assert.rejects(
          f.call("http_request", { url: `${base}/x` }),
          code("POLICY_BLOCKED"),
        );
        await assert.rejects(
          f.call("http_request", {
            url: base.replace("127.0.0.1", "[::ffff:127.0.0.1]"),
          }),
          code("POLICY_BLOCKED"),
        );
        assert.equal(seen.length, 0, "no request left the kernel");
      });
    } finally {
      await f.dispose();
    }
  },
});

Deno.test({
  name:
    "host call http_request substitutes {{secret:NAME}} for a granted host; the capsule never sees the value",
  permissions: P,
  async fn() {
    const f = await makeAbi({
      policy: { allowPrivateNetworks: true },
      grants: { fs: { net: ["127.0.0.1"], secrets: ["API_KEY"] } },
    });
    try {
      await f.secrets.set("fs" as never, "API_KEY", "sk-live-123");
      await withServer(async (base, seen) => {
        grantServer(f, base);
        const r = await f.call("http_request", {
          url: `${base}/x`,
          headers: { authorization: "Bearer {{secret:API_KEY}}" },
        }) as { body: string };
        assert.equal(seen[0]?.get("authorization"), "Bearer sk-live-123");
        assert.ok(!JSON.stringify(r).includes("sk-live-123"));
        const uses = await f.audit.query({
          principal: "default" as PrincipalId,
        });
        assert.ok(
          uses.some((e) =>
            (e.action as { type: string }).type === "secret_use" &&
            e.decision === "allowed"
          ),
        );
        assert.ok(
          !uses.some((e) => JSON.stringify(e).includes("sk-live-123")),
          "the audit never stores the secret",
        );
      });
    } finally {
      await f.dispose();
    }
  },
});

Deno.test({
  name:
    "host call http_request refuses a secret the manifest does not grant, before sending anything",
  permissions: P,
  async fn() {
    const f = await makeAbi({
      policy: { allowPrivateNetworks: true },
      grants: { fs: { net: ["127.0.0.1"] } },
    });
    try {
      await f.secrets.set("fs" as never, "API_KEY", "sk-live-123");
      await withServer(async (base, seen) => {
        grantServer(f, base);
        await assert.rejects(
          f.call("http_request", {
            url: `${base}/x`,
            headers: { authorization: "{{secret:API_KEY}}" },
          }),
          code("MANIFEST_DENIED"),
        );
        assert.equal(seen.length, 0);
      });
    } finally {
      await f.dispose();
    }
  },
});

Deno.test({
  name:
    "host call http_request returns a redirect instead of following it to a blocked address",
  permissions: P,
  async fn() {
    const f = await makeAbi({
      policy: { allowPrivateNetworks: true },
      grants: { fs: { net: ["127.0.0.1"] } },
    });
    try {
      await withServer(async (base, seen) => {
        grantServer(f, base);
        const r = await f.call("http_request", { url: `${base}/redirect` }) as {
          status: number;
        };
        assert.equal(r.status, 302);
        assert.equal(seen.length, 1);
      });
    } finally {
      await f.dispose();
    }
  },
});

Deno.test({
  name: "host call http_request rejects non-http URLs and unknown methods",
  permissions: P,
  async fn() {
    const f = await makeAbi({ grants: { fs: { net: ["*"] } } });
    try {
      await assert.rejects(
        f.call("http_request", { url: "file:///etc/passwd" }),
        code("INVALID_INPUT"),
      );
      await assert.rejects(
        f.call("http_request", { url: "https://a.com", method: "TRACE" }),
        code("INVALID_INPUT"),
      );
    } finally {
      await f.dispose();
    }
  },
});

Deno.test({
  name:
    "host call http_request refuses a public name that resolves to a private address (DNS rebinding)",
  permissions: P,
  async fn() {
    const f = await makeAbi({
      grants: { fs: { net: ["rebind.example.com", "ok.example.com"] } },
    });
    const resolved: string[] = [];
    const deps = f.deps as {
      resolveDns?: (h: string) => Promise<string[]>;
      fetch: typeof fetch;
    };
    deps.resolveDns = (h) => {
      resolved.push(h);
      return Promise.resolve(
        h === "rebind.example.com" ? ["93.184.216.34", "10.0.0.7"] : [],
      );
    };
    let fetched = 0;
    deps.fetch = () => {
      fetched++;
      return Promise.resolve(new Response("no"));
    };
    try {
      await assert.rejects(
        f.call("http_request", { url: "https://rebind.example.com/" }),
        code("POLICY_BLOCKED"),
      );
      await assert.rejects(
        f.call("http_request", { url: "https://ok.example.com/" }),
        code("POLICY_BLOCKED"),
      );
      assert.deepEqual(resolved, ["rebind.example.com", "ok.example.com"]);
      assert.equal(fetched, 0, "nothing was sent");
    } finally {
      await f.dispose();
    }
  },
});

Deno.test({
  name:
    "host call http_request to a granted host on another port is denied at the manifest, before any connection",
  permissions: P,
  async fn() {
    const f = await makeAbi({ grants: { fs: { net: ["api.example.com"] } } });
    try {
      for (
        const url of [
          "https://api.example.com:22/",
          "http://api.example.com:6379/",
        ]
      ) {
        await assert.rejects(
          f.call("http_request", { url }),
          code("MANIFEST_DENIED"),
        );
      }
      const denied = await f.audit.query({
        principal: "default" as PrincipalId,
        decision: "denied",
      });
      assert.deepEqual(
        denied.map((e) => (e.action as { url: string }).url),
        ["https://api.example.com:22/", "http://api.example.com:6379/"],
      );
    } finally {
      await f.dispose();
    }
  },
});

Deno.test({
  name:
    "host call http_request refuses a secret placeholder in a header name with INVALID_INPUT, before any decision",
  permissions: P,
  async fn() {
    const f = await makeAbi({
      policy: { allowPrivateNetworks: true },
      grants: { fs: { net: ["127.0.0.1"], secrets: ["API_KEY"] } },
    });
    try {
      f.secrets.values.set("fs/API_KEY", "sk-live");
      await withServer(async (base, seen) => {
        grantServer(f, base);
        for (const name of ["{{secret:API_KEY}}", "x-{{ secret:API_KEY}}"]) {
          const err = await f.call("http_request", {
            url: `${base}/x`,
            headers: { [name]: "v" },
          }).then(() => null, (e) => e);
          assert.ok(KernelError.is(err, "INVALID_INPUT"), String(err));
          assert.ok(!String(err.message).includes("sk-live"));
        }
        assert.equal(seen.length, 0);
      });
      await f.gate.flush();
      const uses =
        (await f.audit.query({ principal: "default" as PrincipalId }))
          .filter((e) => (e.action as { type: string }).type === "secret_use");
      assert.deepEqual(uses, []);
    } finally {
      await f.dispose();
    }
  },
});

Deno.test({
  name:
    "host call http_request resolves a name once and connects to the address it checked, so a rebinding answer is never used",
  permissions: P,
  async fn() {
    const f = await makeAbi({
      grants: { fs: { net: ["svc.example.com"] } },
    });
    const answers = [["93.184.216.34"], ["127.0.0.1"]];
    const resolved: string[] = [];
    const pins: string[] = [];
    const deps = f.deps as {
      resolveDns?: (h: string) => Promise<string[]>;
      pinnedFetch?: (
        u: URL,
        i: unknown,
        p: { address: string },
      ) => Promise<Response>;
    };
    // A resolver whose second answer rebinds to loopback.
    deps.resolveDns = (h) => {
      resolved.push(h);
      return Promise.resolve(answers.shift() ?? []);
    };
    // Records where the connection would go (kernel/host/pinned_fetch_test.ts
    // shows the real one connects exactly there).
    deps.pinnedFetch = (url, _init, pin) => {
      pins.push(`${url.hostname} -> ${pin.address}`);
      return Promise.resolve(new Response("pinned"));
    };
    try {
      const r = await f.call("http_request", {
        url: "https://svc.example.com/",
      }) as { body: string };
      assert.equal(r.body, "pinned");
      assert.deepEqual(resolved, ["svc.example.com"]);
      assert.deepEqual(pins, ["svc.example.com -> 93.184.216.34"]);
    } finally {
      await f.dispose();
    }
  },
});
