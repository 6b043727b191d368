import assert from "node:assert/strict";
import { type ModeSettings, modeVerdict } from "./modes.ts";

const WS = "/work/project";
function settings(over: Partial<ModeSettings> = {}): ModeSettings {
  return {
    mode: "safe",
    escapePolicy: "ask",
    neverAllow: ["/etc", "/root"],
    autoAllowRead: [],
    autoAllowWrite: [],
    ...over,
  };
}
function verdict(
  type: string,
  isRead: boolean,
  paths: string[],
  over: Partial<ModeSettings> = {},
): string {
  return modeVerdict({ type, isRead, paths }, {
    workspace: WS,
    settings: settings(over),
  }).result;
}

Deno.test({
  name:
    "`modeVerdict()` allows file actions inside the workspace in every mode (writes go to the overlay)",
  permissions: "none",
  fn() {
    for (const mode of ["safe", "guided", "autonomous", "yolo"] as const) {
      assert.equal(
        verdict("capsule_file_access", false, [`${WS}/src/a.ts`], { mode }),
        "allow",
        mode,
      );
      assert.equal(
        verdict("capsule_file_access", true, [WS], { mode }),
        "allow",
        mode,
      );
    }
  },
});

Deno.test({
  name:
    "`modeVerdict()` in safe mode asks before reads outside the workspace, network and processes",
  permissions: "none",
  fn() {
    assert.equal(
      verdict("capsule_file_access", true, ["/home/u/notes.txt"]),
      "ask",
    );
    assert.equal(verdict("capsule_http_request", false, []), "ask");
    assert.equal(verdict("capsule_process_spawn", false, []), "ask");
  },
});

Deno.test({
  name:
    "`modeVerdict()` in guided mode allows reads but asks for writes outside, network and processes",
  permissions: "none",
  fn() {
    assert.equal(
      verdict("capsule_file_access", true, ["/home/u/notes.txt"], {
        mode: "guided",
      }),
      "allow",
    );
    assert.equal(
      verdict("mcp_permission_check", true, [], { mode: "guided" }),
      "allow",
    );
    assert.equal(
      verdict("capsule_file_access", false, ["/home/u/notes.txt"], {
        mode: "guided",
      }),
      "ask",
    );
    assert.equal(
      verdict("capsule_http_request", false, [], { mode: "guided" }),
      "ask",
    );
    assert.equal(
      verdict("capsule_process_spawn", false, [], { mode: "guided" }),
      "ask",
    );
  },
});

Deno.test({
  name:
    "`modeVerdict()` in autonomous and yolo asks nothing, but only yolo commits the overlay",
  permissions: "none",
  fn() {
    assert.equal(
      verdict("capsule_process_spawn", false, [], { mode: "autonomous" }),
      "allow",
    );
    assert.equal(
      verdict("capsule_file_access", false, ["/opt/x"], { mode: "autonomous" }),
      "allow",
    );
    assert.equal(
      verdict("overlay_commit", false, [], { mode: "autonomous" }),
      "ask",
    );
    assert.equal(
      verdict("overlay_commit", false, [], { mode: "yolo" }),
      "allow",
    );
    assert.equal(verdict("overlay_commit", false, [], { mode: "safe" }), "ask");
  },
});

Deno.test({
  name:
    "`modeVerdict()` refuses never_allow paths in every mode, including yolo",
  permissions: "none",
  fn() {
    for (const mode of ["safe", "guided", "autonomous", "yolo"] as const) {
      assert.equal(
        verdict("capsule_file_access", true, ["/etc/passwd"], { mode }),
        "deny",
        mode,
      );
      assert.equal(
        verdict("capsule_file_access", true, ["/root"], { mode }),
        "deny",
        mode,
      );
    }
    assert.equal(
      verdict("capsule_file_access", true, ["/etcetera/x"], {
        mode: "autonomous",
      }),
      "allow",
    );
  },
});

Deno.test({
  name:
    "`modeVerdict()` applies escape_policy to paths outside the workspace: deny refuses, allow admits",
  permissions: "none",
  fn() {
    assert.equal(
      verdict("capsule_file_access", true, ["/opt/x"], {
        escapePolicy: "deny",
      }),
      "deny",
    );
    assert.equal(
      verdict("capsule_file_access", true, ["/opt/x"], {
        escapePolicy: "deny",
        mode: "guided",
      }),
      "deny",
    );
    assert.equal(
      verdict("capsule_file_access", false, ["/opt/x"], {
        escapePolicy: "allow",
      }),
      "allow",
    );
    assert.equal(
      verdict("capsule_file_access", false, ["/opt/x"], {
        escapePolicy: "ask",
      }),
      "ask",
    );
  },
});

Deno.test({
  name:
    "`modeVerdict()` honours auto_allow_read for reads only and auto_allow_write for both",
  permissions: "none",
  fn() {
    const over = {
      autoAllowRead: ["/usr/share/doc"],
      autoAllowWrite: ["/var/tmp/astrid"],
    };
    assert.equal(
      verdict("capsule_file_access", true, ["/usr/share/doc/x"], over),
      "allow",
    );
    assert.equal(
      verdict("capsule_file_access", false, ["/usr/share/doc/x"], over),
      "ask",
    );
    assert.equal(
      verdict("capsule_file_access", false, ["/var/tmp/astrid/y"], over),
      "allow",
    );
  },
});

Deno.test({
  name:
    "`modeVerdict()` does not treat a sibling directory with the workspace as prefix as inside",
  permissions: "none",
  fn() {
    assert.equal(
      verdict("capsule_file_access", true, ["/work/project-evil/a"]),
      "ask",
    );
    assert.equal(
      verdict("capsule_file_access", true, ["/work/project/../project-evil/a"]),
      "ask",
    );
  },
});

Deno.test({
  name:
    "`modeVerdict()` asks before MCP elicitation and sampling in safe and guided mode, allows MCP reads in guided",
  permissions: "none",
  fn() {
    const table: ReadonlyArray<
      readonly [string, "safe" | "guided" | "autonomous" | "yolo", string]
    > = [
      ["mcp_elicitation", "safe", "ask"],
      ["mcp_elicitation", "guided", "ask"],
      ["mcp_elicitation", "autonomous", "allow"],
      ["mcp_sampling", "safe", "ask"],
      ["mcp_sampling", "guided", "ask"],
      ["mcp_sampling", "yolo", "allow"],
    ];
    for (const [type, mode, expected] of table) {
      assert.equal(verdict(type, false, [], { mode }), expected, type + mode);
    }
    for (const type of ["mcp_resource_read", "mcp_prompt_get"]) {
      assert.equal(verdict(type, true, [], { mode: "safe" }), "ask", type);
      assert.equal(verdict(type, true, [], { mode: "guided" }), "allow", type);
    }
  },
});
