/**
 * The conformance client: Astrid's MCP client (`connectMcpClient`, over
 * Streamable HTTP) driven by `@modelcontextprotocol/conformance`. The
 * framework starts a scenario server, runs
 * `deno run … tests/conformance/client.ts <server-url>` with
 * `MCP_CONFORMANCE_SCENARIO` set, and checks what reached its server.
 *
 * Each scenario gets what its server expects: `initialize` (connect, list),
 * `tools_call` (`add_numbers`), `elicitation-sep1034-client-defaults` (an
 * accepted form whose omitted fields the client fills from the schema's
 * defaults), `sse-retry` (a call whose event stream the server cuts),
 * `json-schema-2020-12-preservation` (echo a tool's input schema back), the
 * calls a scenario names in `MCP_CONFORMANCE_CONTEXT` (`toolCalls`), and by
 * default: connect, list the tools and call each with `{}`.
 *
 * @module
 */
import { connectMcpClient } from "../../kernel/capsule/engines/mcp/client/mod.ts";
import type {
  JsonValue,
  McpClientSession,
} from "../../kernel/capsule/engines/mcp/client/mod.ts";

const encoder = new TextEncoder();
/** One line to stderr (the suite keeps it with the scenario's results). */
function say(line: string): void {
  Deno.stderr.writeSync(encoder.encode(`${line}\n`));
}

const url = Deno.args.at(-1);
const scenario = Deno.env.get("MCP_CONFORMANCE_SCENARIO") ?? "";
if (url === undefined) throw new Error("usage: client.ts <server-url>");

const session: McpClientSession = await connectMcpClient({
  url: new URL(url),
  fetch: (u, init) => fetch(u, init),
}, {
  clientName: "astrid-conformance",
  requestTimeoutMs: 20_000,
  handlers: {
    elicit: () => Promise.resolve({ action: "accept", content: {} }),
    sample: () =>
      Promise.resolve({
        role: "assistant",
        content: { type: "text", text: "ok" },
        model: "astrid-conformance",
      }),
    roots: () => Promise.resolve([]),
    log: () => {},
  },
});
try {
  const tools = await session.listTools();
  const argsFor: Record<string, Record<string, JsonValue>> = {
    add_numbers: { a: 5, b: 3 },
  };
  // Some scenarios name the calls to make (MCP_CONFORMANCE_CONTEXT).
  const context = JSON.parse(Deno.env.get("MCP_CONFORMANCE_CONTEXT") ?? "{}");
  const planned = Array.isArray(context.toolCalls)
    ? context.toolCalls as {
      name: string;
      arguments: Record<string, JsonValue>;
    }[]
    : null;
  if (planned !== null) {
    for (const call of planned) {
      try {
        await session.callTool(call.name, call.arguments ?? {});
      } catch (err) {
        say(`${call.name}: ${(err as Error).message}`);
      }
    }
  } else if (scenario !== "initialize") {
    const focal = tools.find((t) => t.name !== "json_schema_echo");
    for (const tool of tools) {
      try {
        // json_schema_echo: echo the other tool's input schema back (the
        // scenario checks the client kept the 2020-12 keywords intact).
        const args = tool.name === "json_schema_echo"
          ? { schema: focal?.inputSchema ?? {} }
          : argsFor[tool.name] ?? {};
        await session.callTool(tool.name, args);
      } catch (err) {
        // The scenario's checks judge the exchange; a failed call is data.
        say(`${tool.name}: ${(err as Error).message}`);
      }
    }
  }
} finally {
  await session.close();
}
