import assert from "node:assert/strict";
import { daemonEnv } from "./daemon_env.ts";

Deno.test("daemonEnv passes only the named variables: tooling allow-list and ASTRID_*, never client tokens or other secrets", () => {
  const env = daemonEnv({
    HOME: "/home/u",
    PATH: "/usr/bin",
    DENO_DIR: "/cache",
    HTTPS_PROXY: "http://proxy:3128",
    SSL_CERT_FILE: "/etc/ca.pem",
    ASTRID_HOME: "/home/u/.astrid",
    ASTRID_PROVIDER: "replay",
    ASTRID_TOKEN: "client-secret",
    ASTRID_SERVE_TOKEN: "server-secret",
    ASTRID_URL: "http://remote",
    AWS_SECRET_ACCESS_KEY: "x",
    SSH_AUTH_SOCK: "/tmp/agent",
    LD_PRELOAD: "/evil.so",
    EMPTY: "",
    ASTRID_EMPTY: "",
  });
  assert.deepEqual(env, {
    HOME: "/home/u",
    PATH: "/usr/bin",
    DENO_DIR: "/cache",
    HTTPS_PROXY: "http://proxy:3128",
    SSL_CERT_FILE: "/etc/ca.pem",
    ASTRID_HOME: "/home/u/.astrid",
    ASTRID_PROVIDER: "replay",
  });
});
