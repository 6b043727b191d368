/**
 * The gate part of `astrid demo`: a pretend capsule asks for things and the
 * five-layer gate decides, with every decision in the signed audit chain.
 *
 * @module
 */
import type {
  ApprovalHandler,
  CapsuleGrants,
  Decision,
  GateContext,
  KernelHandle,
} from "../../mod.ts";
import { NO_GRANTS, parseCapsuleId, parseSessionId } from "../../mod.ts";
import { out } from "../output.ts";

function show(label: string, d: Decision): void {
  const verdict = d.allowed
    ? `ALLOWED  (proof: ${d.proof.type})`
    : `DENIED   [${d.code}] ${d.reason}`;
  out(`  ${label.padEnd(46)} ${verdict}`);
}

/**
 * Runs the gate walkthrough on a booted kernel.
 *
 * @param kernel The kernel.
 * @param workspace The workspace root.
 * @returns Nothing; prints as it goes.
 */
export async function demoGate(
  kernel: KernelHandle,
  workspace: string,
): Promise<void> {
  const { gate, approvals, setGrants, audit } = kernel.security;
  const capsule = parseCapsuleId("notes");
  const grants: CapsuleGrants = {
    ...NO_GRANTS,
    fs_read: ["*"],
    fs_write: ["cwd://out"],
    net: ["*"],
  };
  setGrants(capsule, grants);
  out(
    `  capsule 'notes' manifest: fs_read=["*"] fs_write=["cwd://out"] net=["*"]   mode=${
      kernel.config.get("workspace.mode")
    }`,
  );
  const ctx: GateContext = {
    principal: kernel.principal,
    session: parseSessionId("5e55a000-0000-4000-8000-000000000001"),
    capsule,
    workspace,
    callId: "demo",
  };
  const file = (path: string, mode: "read" | "write") =>
    ({ type: "capsule_file_access", capsule_id: "notes", path, mode }) as const;
  const http = (url: string) =>
    ({
      type: "capsule_http_request",
      capsule_id: "notes",
      url,
      method: "GET",
    }) as const;

  show(
    "read  <ws>/README.md",
    await gate.decide(file(`${workspace}/README.md`, "read"), ctx),
  );
  show(
    "write <ws>/src/main.ts (not in fs_write)",
    await gate.decide(file(`${workspace}/src/main.ts`, "write"), ctx),
  );
  show(
    "GET http://169.254.169.254/ (cloud metadata)",
    await gate.decide(http("http://169.254.169.254/latest"), ctx),
  );
  show(
    "GET http://0x7f.1/ (loopback, hex form)",
    await gate.decide(http("http://0x7f.1/"), ctx),
  );
  show(
    "spawn bash (no host_process grant)",
    await gate.decide({
      type: "capsule_process_spawn",
      capsule_id: "notes",
      command: "bash",
      args: [],
    }, ctx),
  );

  const human: ApprovalHandler = {
    isAvailable: () => true,
    request(req) {
      out(
        `    ? human asked: "${req.summary}" (risk ${req.risk}) → answers Allow Session`,
      );
      return Promise.resolve({ decision: "allow_session" });
    },
  };
  approvals.setHandler(human);
  show(
    "GET https://api.example.com/v1 (asks)",
    await gate.decide(http("https://api.example.com/v1"), ctx),
  );
  show(
    "GET https://api.example.com/v1 again",
    await gate.decide(http("https://api.example.com/v1"), ctx),
  );
  show(
    "GET https://api.example.com/v1 costing $50",
    await gate.decide(http("https://api.example.com/v1"), ctx, {
      estimatedCostMicros: 50_000_000,
    }),
  );

  approvals.setHandler(null);
  const deferred = await gate.decide(http("https://docs.example.org/"), ctx);
  show("GET https://docs.example.org/ (nobody there)", deferred);
  if (!deferred.allowed && deferred.resolutionId) {
    const resolved = await gate.resolveDeferred(
      kernel.principal,
      deferred.resolutionId,
      {
        response: { decision: "allow_once" },
      },
    );
    show(`  …resolved later with Allow Once (gate re-run)`, resolved);
  }

  const v = await audit.verify(kernel.principal);
  out(
    `\n  audit chain of '${kernel.principal}': ${v.entriesVerified} entries, ${
      v.valid ? "valid ✔ (hash-linked, Ed25519-signed)" : "BROKEN"
    }`,
  );
}
