import assert from "node:assert/strict";
import { escapeHtml, html } from "./html.ts";

Deno.test("html escapes every interpolated string, in text and in attributes, and keeps nested templates as markup", () => {
  const evil = `"><script>alert('x')</script>&\``;
  const out = String(
    html`<a title="${evil}">${evil}</a>${html`<b>${evil}</b>`}`,
  );
  assert.ok(!out.includes("<script>"));
  assert.ok(!out.includes(`"><`));
  assert.equal(
    escapeHtml(evil),
    "&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&#96;",
  );
  assert.match(out, /^<a title="&quot;&gt;&lt;script.*<b>&quot;&gt;/);
});

Deno.test("html renders lists, numbers and booleans; null, undefined and false render nothing", () => {
  assert.equal(
    String(html`${["<i>", html`<i>`]}${1}${null}${undefined}${false}${true}`),
    "&lt;i&gt;<i>1true",
  );
});

Deno.test("an object pretending to be Html is escaped: only html templates make markup", () => {
  const fake = { toString: () => "<script>x</script>" } as unknown as string;
  assert.equal(String(html`${fake}`), "&lt;script&gt;x&lt;/script&gt;");
});
