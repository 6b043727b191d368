import assert from "node:assert/strict";
import { KernelError } from "../../core/errors.ts";
import { createDenoFs } from "../../host/deno_fs.ts";
import { MemoryEnv } from "../../testing/memory_env.ts";
import { natsTest, startNats } from "../../../tests/nats_fixture_test.ts";
import {
  connectNats,
  NATS_TOKEN_ENV,
  natsServersLabel,
  readNatsAuth,
  readNatsToken,
} from "./connection.ts";
import { natsHealth } from "./health.ts";

const TOKEN = "s3cret-token-" + crypto.randomUUID();

natsTest("the NATS connection with a token server", async (t) => {
  await using nats = await startNats({ token: TOKEN });

  await t.step(
    "`connectNats()` without the token or with a wrong one fails with CLUSTER_UNAVAILABLE and never echoes a token",
    async () => {
      for (const token of [undefined, "wrong-" + TOKEN]) {
        await assert.rejects(
          connectNats({
            url: nats.url,
            timeoutMs: 2_000,
            ...(token ? { token } : {}),
          }),
          (e: unknown) =>
            KernelError.is(e, "CLUSTER_UNAVAILABLE") &&
            !e.message.includes(TOKEN) &&
            e.message.includes(new URL(nats.url).host),
        );
      }
    },
  );

  await t.step("`connectNats()` with the token connects", async () => {
    const nc = await connectNats({ url: nats.url, token: TOKEN });
    assert.equal(typeof (await nc.rtt()), "number");
    await nc.close();
  });

  await t.step(
    "`natsHealth()` answers reachable with JetStream and no events stream yet, and names no token when refused",
    async () => {
      const ok = await natsHealth(nats.url, { token: TOKEN });
      assert.equal(ok.reachable, true);
      assert.equal(ok.jetstream, true);
      assert.equal(ok.events_stream_messages, null);
      const refused = await natsHealth(nats.url, { token: "nope" });
      assert.equal(refused.reachable, false);
      assert.equal(refused.error?.code, "CLUSTER_UNAVAILABLE");
      assert.ok(!JSON.stringify(refused).includes(TOKEN));
    },
  );

  await t.step(
    "a connection reconnects by itself after the server is killed and started again",
    async () => {
      const nc = await connectNats({
        url: nats.url,
        token: TOKEN,
        reconnectWaitMs: 50,
      });
      const seen: string[] = [];
      const sub = nc.subscribe("ping.>", {
        callback: (_e, m) => void seen.push(m.subject),
      });
      await nats.stop();
      await nats.start();
      const until = Date.now() + 10_000;
      while (seen.length === 0 && Date.now() < until) {
        // Published by a second client once the first one is back.
        const other = await connectNats({ url: nats.url, token: TOKEN })
          .catch(() => undefined);
        if (other) {
          other.publish("ping.after");
          await other.flush();
          await other.close();
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(seen.slice(0, 1), ["ping.after"]);
      sub.unsubscribe();
      await nc.close();
    },
  );
});

Deno.test("`readNatsToken()` takes ASTRID_NATS_TOKEN, else the token file, else none", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fs = createDenoFs();
    const tokenFile = `${dir}/nats.token`;
    const none = await readNatsToken({ env: new MemoryEnv(), fs, tokenFile });
    assert.equal(none, undefined);
    await Deno.writeTextFile(tokenFile, "from-file\n");
    assert.equal(
      await readNatsToken({ env: new MemoryEnv(), fs, tokenFile }),
      "from-file",
    );
    assert.equal(
      await readNatsToken({
        env: new MemoryEnv({ [NATS_TOKEN_ENV]: "from-env" }),
        fs,
        tokenFile,
      }),
      "from-env",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`natsServersLabel()` names hosts and ports only", () => {
  assert.equal(
    natsServersLabel("nats://a:4222, nats://b:4223"),
    "a:4222,b:4223",
  );
});

Deno.test("`readNatsAuth()` prefers a token, else takes the NKey seed of keys/nats.nkey, and refuses a file that is not a user seed", async () => {
  const home = await Deno.makeTempDir();
  try {
    const fs = createDenoFs();
    await Deno.mkdir(`${home}/keys`);
    assert.equal(
      await readNatsAuth({ env: new MemoryEnv(), fs, home }),
      undefined,
    );
    const seed = "SU" + "A".repeat(56);
    await Deno.writeTextFile(`${home}/keys/nats.nkey`, `${seed}\n`);
    assert.deepEqual(await readNatsAuth({ env: new MemoryEnv(), fs, home }), {
      nkeySeed: seed,
    });
    assert.deepEqual(
      await readNatsAuth({
        env: new MemoryEnv({ [NATS_TOKEN_ENV]: "tok" }),
        fs,
        home,
      }),
      { token: "tok" },
    );
    await Deno.writeTextFile(`${home}/keys/nats.nkey`, "SAAAA-not-a-user-seed");
    await assert.rejects(
      readNatsAuth({ env: new MemoryEnv(), fs, home }),
      (e: unknown) =>
        KernelError.is(e, "CONFIG_INVALID") &&
        !e.message.includes("not-a-user-seed"),
    );
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
