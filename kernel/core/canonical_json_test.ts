import assert from "node:assert/strict";
import { canonicalize } from "./canonical_json.ts";
import { KernelError } from "./errors.ts";

function isUnsupported(e: unknown): boolean {
  return KernelError.is(e, "CANONICAL_JSON_UNSUPPORTED");
}

function fromHex(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

Deno.test({
  name: "`canonicalize()` reproduces the RFC 8785 §3.2.2 sample output",
  permissions: "none",
  fn() {
    const input = String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`;
    const expected = String
      .raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`;
    assert.equal(canonicalize(JSON.parse(input)), expected);
  },
});

Deno.test({
  name:
    "`canonicalize()` sorts keys by UTF-16 code units as in the RFC 8785 §3.2.3 example",
  permissions: "none",
  fn() {
    const input = String.raw`{
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }`;
    const out = canonicalize(JSON.parse(input));
    // Object.keys() would put "1" first (integer keys), so read the order from the text.
    const order = [...out.matchAll(/[{,]("(?:[^"\\]|\\.)*"):/g)].map((m) =>
      JSON.parse(m[1] ?? "")
    );
    assert.deepEqual(order, [
      "\r",
      "1",
      "\u0080",
      "\u00f6",
      "\u20ac",
      "\ud83d\ude00",
      "\ufb33",
    ]);
    assert.equal(
      out,
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control",' +
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",' +
        '"\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  },
});

const APPENDIX_B: ReadonlyArray<readonly [string, string]> = [
  ["0000000000000000", "0"],
  ["8000000000000000", "0"],
  ["0000000000000001", "5e-324"],
  ["8000000000000001", "-5e-324"],
  ["7fefffffffffffff", "1.7976931348623157e+308"],
  ["ffefffffffffffff", "-1.7976931348623157e+308"],
  ["4340000000000000", "9007199254740992"],
  ["c340000000000000", "-9007199254740992"],
  ["4430000000000000", "295147905179352830000"],
  ["44b52d02c7e14af5", "9.999999999999997e+22"],
  ["44b52d02c7e14af6", "1e+23"],
  ["44b52d02c7e14af7", "1.0000000000000001e+23"],
  ["444b1ae4d6e2ef4e", "999999999999999700000"],
  ["444b1ae4d6e2ef4f", "999999999999999900000"],
  ["444b1ae4d6e2ef50", "1e+21"],
  ["3eb0c6f7a0b5ed8c", "9.999999999999997e-7"],
  ["3eb0c6f7a0b5ed8d", "0.000001"],
  ["41b3de4355555553", "333333333.3333332"],
  ["41b3de4355555554", "333333333.33333325"],
  ["41b3de4355555555", "333333333.3333333"],
  ["41b3de4355555556", "333333333.3333334"],
  ["41b3de4355555557", "333333333.33333343"],
  ["becbf647612f3696", "-0.0000033333333333333333"],
  ["43143ff3c1cb0959", "1424953923781206.2"],
];

Deno.test({
  name: "`canonicalize()` writes every RFC 8785 Appendix B number as listed",
  permissions: "none",
  fn() {
    for (const [hex, expected] of APPENDIX_B) {
      assert.equal(canonicalize(fromHex(hex)), expected, `0x${hex}`);
      assert.equal(canonicalize([fromHex(hex)]), `[${expected}]`, `[0x${hex}]`);
    }
  },
});

Deno.test({
  name: "`canonicalize()` rejects the Appendix B NaN and Infinity bit patterns",
  permissions: "none",
  fn() {
    for (
      const hex of ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"]
    ) {
      assert.throws(
        () => canonicalize(fromHex(hex)),
        isUnsupported,
        `0x${hex}`,
      );
      assert.throws(
        () => canonicalize({ n: fromHex(hex) }),
        isUnsupported,
        `{n: 0x${hex}}`,
      );
    }
  },
});

Deno.test({
  name: "`canonicalize()` writes negative zero as 0, also inside containers",
  permissions: "none",
  fn() {
    assert.equal(canonicalize(-0), "0");
    assert.equal(canonicalize({ z: -0, a: [-0] }), '{"a":[0],"z":0}');
  },
});

Deno.test({
  name:
    "`canonicalize()` escapes every control character as JSON.stringify does",
  permissions: "none",
  fn() {
    let all = "";
    for (let c = 0; c < 0x20; c++) all += String.fromCharCode(c);
    const out = canonicalize(all);
    assert.equal(out, JSON.stringify(all));
    assert.ok(
      out.includes("\\u0000") && out.includes("\\u001f") && out.includes("\\b"),
    );
    assert.ok(
      out.includes("\\t") && out.includes("\\n") && out.includes("\\f") &&
        out.includes("\\r"),
    );
  },
});

Deno.test({
  name:
    "`canonicalize()` keeps DEL, U+2028, '/' and non-ASCII characters literal",
  permissions: "none",
  fn() {
    assert.equal(
      canonicalize("\x7f\u2028\u2029/é😀"),
      '"\x7f\u2028\u2029/é😀"',
    );
  },
});

Deno.test({
  name: "`canonicalize()` rejects a lone surrogate in a string value",
  permissions: "none",
  fn() {
    assert.throws(() => canonicalize("a\ud800b"), isUnsupported);
    assert.throws(() => canonicalize(["\udc00"]), isUnsupported);
  },
});

Deno.test({
  name: "`canonicalize()` rejects a lone surrogate in an object key",
  permissions: "none",
  fn() {
    assert.throws(() => canonicalize({ "\ud83d": 1 }), isUnsupported);
  },
});

Deno.test({
  name: "`canonicalize()` accepts a well-formed surrogate pair",
  permissions: "none",
  fn() {
    assert.equal(canonicalize("\ud83d\ude00"), '"😀"');
  },
});

Deno.test({
  name:
    "`canonicalize()` sorts integer-like keys as strings, not in JS property order",
  permissions: "none",
  fn() {
    assert.equal(
      canonicalize({ 9: "n", 10: "t", a: 1, B: 2, 1: "o" }),
      '{"1":"o","10":"t","9":"n","B":2,"a":1}',
    );
  },
});

Deno.test({
  name: "`canonicalize()` sorts nested objects and keeps array order",
  permissions: "none",
  fn() {
    const v = { z: [{ y: 1, x: 2 }, 3, "s"], a: { d: {}, c: [] } };
    assert.equal(
      canonicalize(v),
      '{"a":{"c":[],"d":{}},"z":[{"x":2,"y":1},3,"s"]}',
    );
  },
});
