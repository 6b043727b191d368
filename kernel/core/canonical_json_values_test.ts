import assert from "node:assert/strict";
import { canonicalBytes, canonicalize } from "./canonical_json.ts";
import { KernelError } from "./errors.ts";

function isUnsupported(e: unknown): boolean {
  return KernelError.is(e, "CANONICAL_JSON_UNSUPPORTED");
}

Deno.test({
  name: "`canonicalize()` omits object properties whose value is undefined",
  permissions: "none",
  fn() {
    assert.equal(canonicalize({ a: undefined, b: 1, c: undefined }), '{"b":1}');
    assert.equal(canonicalize({ a: undefined }), "{}");
  },
});

Deno.test({
  name:
    "`canonicalize()` rejects undefined at top level and as an array element or hole",
  permissions: "none",
  fn() {
    assert.throws(() => canonicalize(undefined), isUnsupported);
    assert.throws(() => canonicalize([1, undefined]), isUnsupported);
    // deno-lint-ignore no-sparse-arrays
    assert.throws(() => canonicalize([1, , 2]), isUnsupported);
  },
});

Deno.test({
  name: "`canonicalize()` rejects functions, symbols and bigints anywhere",
  permissions: "none",
  fn() {
    for (const bad of [() => 1, Symbol("s"), 1n]) {
      assert.throws(() => canonicalize(bad), isUnsupported);
      assert.throws(() => canonicalize({ k: bad }), isUnsupported);
      assert.throws(() => canonicalize([bad]), isUnsupported);
    }
  },
});

Deno.test({
  name: "`canonicalize()` rejects an object with an enumerable symbol key",
  permissions: "none",
  fn() {
    assert.throws(
      () => canonicalize({ a: 1, [Symbol("s")]: 2 }),
      isUnsupported,
    );
  },
});

Deno.test({
  name:
    "`canonicalize()` rejects Date, Map, Set, typed arrays, boxed and class values",
  permissions: "none",
  fn() {
    class Point {
      x = 1;
    }
    const bad: unknown[] = [
      new Date(0),
      new Map(),
      new Set(),
      new Uint8Array(1),
      new String("s"),
      new Point(),
    ];
    for (const v of bad) {
      assert.throws(() => canonicalize({ v }), isUnsupported);
    }
  },
});

Deno.test({
  name:
    "`canonicalize()` never calls toJSON (a toJSON property is a function and rejected)",
  permissions: "none",
  fn() {
    let called = false;
    const v = {
      toJSON() {
        called = true;
        return 1;
      },
    };
    assert.throws(() => canonicalize(v), isUnsupported);
    assert.equal(called, false);
  },
});

Deno.test({
  name: "`canonicalize()` supports null-prototype objects",
  permissions: "none",
  fn() {
    const o = Object.create(null) as Record<string, unknown>;
    o.b = 2;
    o.a = Object.assign(Object.create(null), { y: true });
    assert.equal(canonicalize(o), '{"a":{"y":true},"b":2}');
  },
});

Deno.test({
  name: "`canonicalize()` rejects a cycle through an object or an array",
  permissions: "none",
  fn() {
    const o: Record<string, unknown> = {};
    o.self = o;
    assert.throws(() => canonicalize(o), isUnsupported);
    const a: unknown[] = [];
    a.push({ back: a });
    assert.throws(() => canonicalize(a), isUnsupported);
  },
});

Deno.test({
  name:
    "`canonicalize()` accepts a shared acyclic sub-object at several places",
  permissions: "none",
  fn() {
    const shared = { k: 1 };
    assert.equal(
      canonicalize({ a: shared, b: [shared, shared] }),
      '{"a":{"k":1},"b":[{"k":1},{"k":1}]}',
    );
  },
});

Deno.test({
  name: "`canonicalize()` names the failing path in the error data",
  permissions: "none",
  fn() {
    try {
      canonicalize({ outer: [1, { bad: Infinity }] });
      assert.fail("expected a throw");
    } catch (e) {
      assert.ok(isUnsupported(e));
      assert.equal((e as KernelError).data?.path, '$["outer"][1]["bad"]');
    }
  },
});

Deno.test({
  name: "`canonicalize()` is idempotent through JSON.parse",
  permissions: "none",
  fn() {
    const v = {
      s: "\u0001é",
      n: [0.1, 1e21, -5e-324],
      o: { "\u00f6": null, z: false },
    };
    const once = canonicalize(v);
    assert.equal(canonicalize(JSON.parse(once)), once);
  },
});

Deno.test({
  name: "`canonicalBytes()` is the UTF-8 encoding of the canonical text",
  permissions: "none",
  fn() {
    const bytes = canonicalBytes({ e: "€", a: "😀" });
    assert.deepEqual(bytes, new TextEncoder().encode('{"a":"😀","e":"€"}'));
    assert.deepEqual([...canonicalBytes("€")], [0x22, 0xe2, 0x82, 0xac, 0x22]);
  },
});

Deno.test({
  name: "`canonicalBytes()` rejects what `canonicalize()` rejects",
  permissions: "none",
  fn() {
    assert.throws(() => canonicalBytes({ n: NaN }), isUnsupported);
    assert.throws(() => canonicalBytes("\ud800"), isUnsupported);
  },
});

Deno.test({
  name:
    "`canonicalize()` gives the same text past the fast path: nesting deeper than 64, a non-enumerable symbol key, and names the exact path of a bad value deep inside",
  permissions: "none",
  fn() {
    let deep: unknown = { b: 1, a: [true, "x"] };
    let expected = '{"a":[true,"x"],"b":1}';
    for (let i = 0; i < 100; i++) {
      deep = i % 2 === 0 ? [deep] : { k: deep };
      expected = i % 2 === 0 ? `[${expected}]` : `{"k":${expected}}`;
    }
    assert.equal(canonicalize(deep), expected);
    const hidden = { b: 2, a: 1 };
    Object.defineProperty(hidden, Symbol("s"), { value: 1, enumerable: false });
    assert.equal(canonicalize(hidden), '{"a":1,"b":2}');
    assert.throws(
      () => canonicalize({ a: [{ "x y": [1, NaN] }] }),
      (e) => isUnsupported(e) && /\$\["a"\]\[0\]\["x y"\]\[1\]/.test(String(e)),
    );
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { again: cyclic };
    assert.throws(() => canonicalize(cyclic), isUnsupported);
  },
});
