/**
 * The console's one stylesheet, served as `/static/console.css`: small,
 * mobile first (one column, 44 px tap targets), no web fonts.
 *
 * @module
 */

/** The stylesheet. */
export const CONSOLE_CSS =
  `:root{--fg:#1b1f24;--bg:#fafafa;--mut:#5b6470;--line:#d5d9de;--acc:#1f5fbf;--ok:#17733a;--bad:#b3261e;--warn:#8a5a00}
*{box-sizing:border-box}
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{background:#16202c;color:#fff;padding:.5rem .75rem;display:flex;flex-wrap:wrap;gap:.25rem .75rem;align-items:center}
header .brand{font-weight:700;margin-right:.5rem}
header nav{display:flex;flex-wrap:wrap;gap:.25rem}
header a{color:#fff;text-decoration:none;padding:.5rem .55rem;border-radius:6px;min-height:44px;display:inline-flex;align-items:center}
header nav form{margin:0}
header nav button{background:transparent;color:#fff;border-color:#5b6b7e;padding:.4rem .7rem}
header a[aria-current]{background:#2f4156}
main{max-width:60rem;margin:0 auto;padding:1rem .75rem 3rem}
h1{font-size:1.4rem;margin:.25rem 0 1rem}
h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
a{color:var(--acc)}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:.75rem;margin:.5rem 0;overflow-wrap:anywhere}
.muted{color:var(--mut);font-size:.9rem}
.flash{padding:.75rem;border-radius:8px;margin:0 0 1rem;background:#e8f1fb;border:1px solid #b8d0ee}
.flash.error,.error{color:var(--bad)}
.flash.error{background:#fdecea;border-color:#f1b8b3}
.ok{color:var(--ok)}
button,.button{font:inherit;min-height:44px;padding:.5rem 1rem;border-radius:8px;border:1px solid var(--line);background:#fff;color:var(--fg);cursor:pointer;text-decoration:none;display:inline-flex;align-items:center}
button.primary,button.allow{background:var(--acc);border-color:var(--acc);color:#fff}
button.deny,button.danger{background:#fff;border-color:var(--bad);color:var(--bad)}
button:disabled{opacity:.5}
.buttons{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:.5rem}
input[type=text],input[type=password],input[type=search],textarea,select{font:inherit;width:100%;min-height:44px;padding:.5rem;border:1px solid var(--line);border-radius:8px;background:#fff}
textarea{min-height:5rem}
label{display:block;margin:.5rem 0 .25rem;font-weight:600}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f3f4f6;border-radius:6px;padding:.5rem;margin:.25rem 0;font-size:.85rem;max-height:30rem;overflow:auto}
.diff .add{color:var(--ok)}.diff .del{color:var(--bad)}.diff .hunk{color:var(--mut)}
.tag{display:inline-block;padding:0 .4rem;border-radius:4px;font-size:.8rem;border:1px solid var(--line);background:#fff}
.risk-high,.risk-critical{border-left:4px solid var(--bad)}
.risk-medium{border-left:4px solid var(--warn)}
.risk-low{border-left:4px solid var(--ok)}
.approval{background:#fff;border:1px solid var(--line);border-radius:8px;padding:.75rem;margin:.5rem 0}
.approval.decided{opacity:.7}
.resource{font-family:ui-monospace,monospace;overflow-wrap:anywhere}
#turn .msg{padding:.5rem .75rem;border-radius:8px;margin:.4rem 0;white-space:pre-wrap;overflow-wrap:anywhere}
#turn .user{background:#e8f1fb}
#turn .assistant{background:#fff;border:1px solid var(--line)}
#turn .tool,#turn .decision{font-family:ui-monospace,monospace;font-size:.85rem;color:var(--mut);overflow-wrap:anywhere}
#turn .done{color:var(--mut);font-size:.85rem;text-align:center}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:.4rem;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:anywhere}
.filters{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.5rem;align-items:end}
.check{display:flex;gap:.5rem;align-items:center;font-weight:400;min-height:44px}
.check input{width:1.4rem;height:1.4rem}
@media (max-width:40rem){table.wide thead{display:none}table.wide td{display:block;border:0;padding:.15rem .4rem}table.wide tr{display:block;border-bottom:1px solid var(--line);padding:.4rem 0}}
`;
