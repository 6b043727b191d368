import assert from "node:assert/strict";

import { KernelError } from "../core/errors.ts";
import { MAX_BODY_BYTES } from "./contract.ts";
import { constantTimeEqual, jsonResponse, Router } from "./router.ts";

const TOKEN = "secret-token";

function handler() {
  return new Router()
    .on("status", () => jsonResponse({ ok: true }))
    .on("sessionsCreate", async (ctx) => jsonResponse(await ctx.json(), 201))
    .on("sessionsShow", (ctx) => {
      if (ctx.params.id === "missing") {
        throw new KernelError("NOT_FOUND", "No session 'missing'");
      }
      return jsonResponse({ id: ctx.params.id });
    })
    .handler({ token: () => TOKEN });
}

function req(path: string, init: RequestInit = {}, token = TOKEN) {
  return new Request(`http://astrid${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, ...init.headers },
  });
}

Deno.test("a request without the daemon's token is refused with API_UNAUTHORIZED", async () => {
  const h = handler();
  for (const token of ["", "secret-tokeN", "secret-token2", "x"]) {
    const res = await h(req("/v1/status", {}, token));
    assert.deepEqual(res.status, 401);
    assert.deepEqual((await res.json()).error.code, "API_UNAUTHORIZED");
  }
  const none = await h(new Request("http://astrid/v1/status"));
  assert.deepEqual(none.status, 401);
  await none.body?.cancel();
});

Deno.test("routes match with decoded parameters; unknown paths and methods get coded 4xx", async () => {
  const h = handler();
  assert.deepEqual(await (await h(req("/v1/sessions/a%20b"))).json(), {
    id: "a b",
  });
  const missing = await h(req("/v1/sessions/missing"));
  assert.deepEqual(missing.status, 404);
  assert.deepEqual((await missing.json()).error.code, "NOT_FOUND");
  const nope = await h(req("/v1/nope"));
  assert.deepEqual([nope.status, (await nope.json()).error.code], [
    404,
    "API_NOT_FOUND",
  ]);
  const method = await h(req("/v1/status", { method: "DELETE" }));
  assert.deepEqual(
    [method.status, (await method.json()).error.code],
    [405, "API_METHOD_NOT_ALLOWED"],
  );
  const bad = await h(req("/v1/sessions/%E0%A4%A"));
  assert.deepEqual(bad.status, 404);
  await bad.body?.cancel();
});

Deno.test("bodies must be JSON objects within the size limit", async () => {
  const h = handler();
  const post = (body: BodyInit) =>
    h(req("/v1/sessions", { method: "POST", body }));
  const ok = await post(JSON.stringify({ workspace: "/w" }));
  assert.deepEqual([ok.status, await ok.json()], [201, { workspace: "/w" }]);
  for (
    const body of ["{", "[1]", "null", '"s"', new Uint8Array([0xff, 0xfe])]
  ) {
    const res = await post(body);
    assert.deepEqual([res.status, (await res.json()).error.code], [
      400,
      "API_BAD_REQUEST",
    ]);
  }
  const big = await post("x".repeat(MAX_BODY_BYTES + 1));
  assert.deepEqual([big.status, (await big.json()).error.code], [
    413,
    "API_BODY_TOO_LARGE",
  ]);
});

Deno.test("constantTimeEqual compares whole strings", () => {
  assert.deepEqual(constantTimeEqual("abc", "abc"), true);
  assert.deepEqual(constantTimeEqual("abc", "abd"), false);
  assert.deepEqual(constantTimeEqual("abc", "abcd"), false);
  assert.deepEqual(constantTimeEqual("", ""), true);
});
