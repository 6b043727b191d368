/** Test fixture shared by the sandbox tests (no tests of its own). */

/** A minimal MCP server over newline-delimited JSON-RPC on stdio, in Python. */
export const PY_SERVER = `
import json, os, sys
TOOL = {"name": "echo", "description": "Echoes text and reports where it runs",
        "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}},
                        "required": ["text"]}}
for line in sys.stdin:
    msg = json.loads(line)
    if "id" not in msg:
        continue
    method = msg.get("method")
    if method == "initialize":
        result = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                  "serverInfo": {"name": "py-echo", "version": "1.0.0"}}
    elif method == "tools/list":
        result = {"tools": [TOOL]}
    elif method == "tools/call":
        text = msg["params"]["arguments"]["text"]
        with open(os.path.join(os.environ["HOME"], "calls.log"), "a") as f:
            f.write(text + "\\n")
        result = {"content": [{"type": "text", "text": text}],
                  "structuredContent": {"pid": os.getpid(), "cwd": os.getcwd()}}
    else:
        print(json.dumps({"jsonrpc": "2.0", "id": msg["id"],
                          "error": {"code": -32601, "message": "no " + str(method)}}), flush=True)
        continue
    print(json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": result}), flush=True)
`;
