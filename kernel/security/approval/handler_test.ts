import assert from "node:assert/strict";
import {
  APPROVAL_OPTION_LABELS,
  APPROVAL_OPTIONS,
  MAX_REASON_LENGTH,
  parseApprovalResponse,
} from "./handler.ts";

Deno.test({
  name:
    "`parseApprovalResponse()` keeps a valid decision and a cleaned, bounded reason",
  permissions: "none",
  fn() {
    assert.deepEqual(
      parseApprovalResponse({ decision: "allow_once" }, APPROVAL_OPTIONS),
      { decision: "allow_once" },
    );
    assert.deepEqual(
      parseApprovalResponse(
        { decision: "deny", reason: "\u001b[31mno\u0000 ", extra: 1 },
        APPROVAL_OPTIONS,
      ),
      { decision: "deny", reason: "[31mno" },
    );
    const long = parseApprovalResponse(
      { decision: "deny", reason: "x".repeat(5_000) },
      APPROVAL_OPTIONS,
    );
    assert.equal(long?.reason?.length, MAX_REASON_LENGTH);
  },
});

Deno.test({
  name:
    "`parseApprovalResponse()` refuses decisions that were not offered or are malformed",
  permissions: "none",
  fn() {
    const offered = ["allow_once", "deny"] as const;
    for (
      const raw of [
        { decision: "allow_always" },
        { decision: "approve" },
        { decision: "__proto__" },
        { decision: "deny", reason: 1 },
        { reason: "x" },
        null,
        "deny",
        ["deny"],
      ]
    ) {
      assert.equal(
        parseApprovalResponse(raw, offered),
        null,
        JSON.stringify(raw),
      );
    }
  },
});

Deno.test({
  name: "`APPROVAL_OPTION_LABELS` labels the five options in display order",
  permissions: "none",
  fn() {
    assert.deepEqual(APPROVAL_OPTIONS.map((o) => APPROVAL_OPTION_LABELS[o]), [
      "Allow Once",
      "Allow Session",
      "Allow Workspace",
      "Allow Always",
      "Deny",
    ]);
  },
});
