import assert from "node:assert/strict";
import type { CapsuleId } from "../core/ids.ts";
import type { JsonValue } from "../store/store.ts";
import type { MeterPort } from "./ports.ts";
import { makeAbi } from "./_abi_fixture_test.ts";

/**
 * A meter whose charges never arrive while the sub-agent runs (on a loaded
 * machine the usage events sit in the meter's delivery queue until after the
 * answer): only its prices are used. 1 micro-dollar per token.
 */
const lateMeter: MeterPort = {
  track: () => () => {},
  costMicros: (u) => u.input_tokens + u.output_tokens,
};

async function delegate(
  usage: JsonValue,
  budgetUsd: number | undefined,
): Promise<JsonValue> {
  const f = await makeAbi({
    withBus: true,
    grants: { boss: {} },
    deps: { meter: lateMeter },
  });
  try {
    const bus = f.bus!;
    bus.registerCapsule("boss" as CapsuleId, {
      publish: ["user.v1.prompt"],
      subscribe: [],
    });
    bus.registerCapsule("react" as CapsuleId, {
      publish: [],
      subscribe: ["user.v1.prompt"],
    });
    bus.subscribe("react" as CapsuleId, {
      pattern: "user.v1.prompt",
      handler: () => ({ text: "done", usage, iterations: 2 }),
    });
    return await f.call("agent_delegate", {
      prompt: "a sub-task",
      ...(budgetUsd === undefined ? {} : { budget_usd: budgetUsd }),
    }, "boss") as JsonValue;
  } finally {
    await f.dispose();
  }
}

Deno.test("agent_delegate refuses a sub-agent's answer whose reported usage is past its slice, even when the meter's charge has not arrived yet", async () => {
  await assert.rejects(
    delegate({ input_tokens: 410, output_tokens: 32 }, 0.000001),
    (e: unknown) =>
      e instanceof Error && "code" in e && e.code === "BUDGET_EXCEEDED" &&
      /spent \$0\.0004 of its \$0\.0000 slice/.test(e.message),
  );
});

Deno.test("agent_delegate returns a sub-agent's answer within its slice, and without a slice", async () => {
  const within = await delegate(
    { input_tokens: 400, output_tokens: 10 },
    0.001,
  );
  assert.equal((within as Record<string, JsonValue>)["text"], "done");
  const none = await delegate(
    { input_tokens: 10 ** 9, output_tokens: 0 },
    undefined,
  );
  assert.equal((none as Record<string, JsonValue>)["text"], "done");
});

Deno.test("agent_delegate counts a malformed usage report as zero (the meter's charges still stop it)", async () => {
  const out = await delegate(
    { input_tokens: -5, output_tokens: "many" },
    0.000001,
  );
  assert.equal((out as Record<string, JsonValue>)["text"], "done");
});
