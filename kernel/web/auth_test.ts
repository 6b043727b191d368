import assert from "node:assert/strict";
import {
  ConsoleAuth,
  LOGIN_TOKEN_TTL_MS,
  MAX_SESSIONS,
  SESSION_IDLE_MS,
} from "./auth.ts";

Deno.test("a login token works once and not after its expiry; a wrong one never", () => {
  let now = 0;
  const auth = new ConsoleAuth({ now: () => now });
  const t = auth.issueLoginToken();
  assert.match(t, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(
    auth.login(t.slice(0, -1) + (t.endsWith("A") ? "B" : "A")),
    null,
  );
  const s = auth.login(t);
  assert.ok(s);
  assert.notEqual(s.id, s.csrf);
  assert.equal(auth.login(t), null, "single use");
  const late = auth.issueLoginToken();
  now += LOGIN_TOKEN_TTL_MS;
  assert.equal(auth.login(late), null, "expired");
  assert.equal(auth.login(""), null);
});

Deno.test("sessions end when idle too long or logged out; the oldest goes when too many; CSRF must match exactly", () => {
  let now = 0;
  const auth = new ConsoleAuth({
    now: () => now,
    secret: () => "s".repeat(40),
  });
  const first = auth.login("s".repeat(40))!;
  assert.ok(auth.checkCsrf(first, first.csrf));
  assert.ok(!auth.checkCsrf(first, first.id));
  assert.ok(!auth.checkCsrf(first, null));
  assert.ok(!auth.checkCsrf(first, ""));
  now += 1;
  const all = Array.from({ length: MAX_SESSIONS }, () => {
    now += 1;
    return auth.login("s".repeat(40))!;
  });
  assert.equal(auth.session(first.id), null, "the oldest was evicted");
  assert.ok(auth.session(all[0]!.id));
  auth.logout(all[0]!.id);
  assert.equal(auth.session(all[0]!.id), null);
  now += SESSION_IDLE_MS + 1;
  assert.equal(auth.session(all[1]!.id), null, "idle too long");
});
