import assert from "node:assert/strict";
import { bad, ok, PKG } from "./_manifest_fixture_test.ts";
import { requiredArtifacts } from "./capsule_meta.ts";

const NET = ["[capabilities]", 'net = ["mcp.example.com"]'];
const SECRET = ["[env.TOKEN]", 'type = "secret"'];

function remote(...fields: string[]): string[] {
  return ["[[mcp_server]]", 'id = "remote"', ...fields];
}

function messages(...lines: string[]): string {
  return bad(...lines).map((i) => `${i.key}: ${i.message}`).join("\n");
}

Deno.test({
  name:
    "`parseManifest()` reads a remote [[mcp_server]] url with a secret placeholder header; the engine is mcp and nothing is pinned for it",
  permissions: "none",
  fn() {
    const m = ok(
      ...PKG,
      ...NET,
      ...SECRET,
      ...remote(
        'url = "https://mcp.example.com/mcp"',
        'headers = { Authorization = "Bearer {{secret:TOKEN}}", X-Team = "a" }',
      ),
    );
    assert.equal(m.engine, "mcp");
    assert.deepEqual(m.mcp_servers, [{
      id: "remote",
      type: "http",
      url: "https://mcp.example.com/mcp",
      headers: { Authorization: "Bearer {{secret:TOKEN}}", "X-Team": "a" },
    }]);
    assert.deepEqual(requiredArtifacts(m), ["Capsule.toml"]);
  },
});

Deno.test({
  name:
    "`parseManifest()` refuses remote URLs that are not http(s), carry userinfo or a fragment, or whose host is not in capabilities.net",
  permissions: "none",
  fn() {
    for (
      const [url, why] of [
        ["ftp://mcp.example.com/mcp", /'ftp:' is not allowed/],
        ["https://user:pw@mcp.example.com/mcp", /user name or password/],
        ["https://mcp.example.com/mcp#x", /fragment/],
        ["https://evil.example.org/mcp", /not in capabilities\.net/],
        ["https://mcp.example.com:8443/mcp", /not in capabilities\.net/],
        ["not a url", /absolute http\(s\) URL/],
      ] as const
    ) {
      assert.match(
        messages(...PKG, ...NET, ...remote(`url = "${url}"`)),
        why,
        url,
      );
    }
  },
});

Deno.test({
  name:
    "`parseManifest()` refuses a literal credential header, an undeclared or non-secret placeholder, transport headers and command keys on a remote server",
  permissions: "none",
  fn() {
    const url = 'url = "https://mcp.example.com/mcp"';
    assert.match(
      messages(
        ...PKG,
        ...NET,
        ...remote(url, 'headers = { Authorization = "Bearer abc123" }'),
      ),
      /carries a credential.*never literally/,
    );
    assert.match(
      messages(
        ...PKG,
        ...NET,
        ...remote(url, 'headers = { X-Key = "{{secret:NOPE}}" }'),
      ),
      /names no \[env\.NOPE\] of type 'secret'/,
    );
    assert.match(
      messages(
        ...PKG,
        ...NET,
        "[env.PLAIN]",
        'type = "string"',
        ...remote(url, 'headers = { X-Key = "{{secret:PLAIN}}" }'),
      ),
      /names no \[env\.PLAIN\] of type 'secret'/,
    );
    assert.match(
      messages(
        ...PKG,
        ...NET,
        ...remote(url, 'headers = { Mcp-Session-Id = "x" }'),
      ),
      /set by the MCP transport/,
    );
    assert.match(
      messages(...PKG, ...NET, ...remote(url, 'command = "deno"')),
      /unknown key 'command'/,
    );
    assert.match(
      messages(
        ...PKG,
        ...NET,
        ...SECRET,
        ...remote('url = "https://mcp.example.com/{{secret:TOKEN}}"'),
      ),
      /only in a header value/,
    );
  },
});
