/**
 * The console's one script, served as `/static/console.js` (no inline
 * script anywhere: the Content-Security-Policy allows only this file). It
 * progressively enhances the pages: the live turn view (an `EventSource` on
 * the session's events) and the prompt form (sent with `fetch`, so the
 * stream keeps running). Everything from the server is inserted with
 * `textContent`, never as markup.
 *
 * @module
 */

/** The script's source. */
export const CONSOLE_JS = `"use strict";
(function () {
  var meta = function (n) {
    var m = document.querySelector('meta[name="' + n + '"]');
    return m ? m.getAttribute("content") : "";
  };
  var csrf = meta("csrf-token");
  var LABELS = {
    allow_once: "Allow once",
    allow_session: "Allow for this session",
    allow_workspace: "Allow in this workspace",
    allow_always: "Always allow",
    deny: "Deny",
  };
  var el = function (tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  var post = function (url, fields) {
    var body = new URLSearchParams(fields);
    body.set("csrf", csrf);
    return fetch(url, {
      method: "POST",
      headers: { "x-csrf-token": csrf, accept: "application/json" },
      body: body,
      credentials: "same-origin",
    });
  };

  var live = document.getElementById("live");
  if (live) {
    var log = document.getElementById("turn");
    var state = document.getElementById("turn-state");
    var budget = document.getElementById("budget");
    var text = null;
    var setState = function (s) { if (state) state.textContent = s; };
    var add = function (node) {
      log.appendChild(node);
      node.scrollIntoView({ block: "end" });
      return node;
    };
    var src = new EventSource(live.getAttribute("data-events"));
    var on = function (type, fn) {
      src.addEventListener(type, function (m) {
        var e;
        try { e = JSON.parse(m.data); } catch (_) { return; }
        fn(e);
      });
    };
    src.onopen = function () { live.setAttribute("data-connected", "1"); };
    src.onerror = function () {
      live.removeAttribute("data-connected");
      setState("reconnecting…");
    };
    on("turn_start", function () { text = null; setState("working…"); });
    on("text_delta", function (e) {
      if (!text) text = add(el("div", "msg assistant", ""));
      text.textContent += e.text;
    });
    on("tool_call", function (e) {
      text = null;
      add(el("div", "tool", "→ " + e.name + " " + JSON.stringify(e.arguments)));
    });
    on("tool_result", function (e) {
      var d = add(el("pre", e.is_error ? "result error" : "result", e.content));
      d.setAttribute("data-tool-result", e.id);
    });
    on("approval_required", function (e) {
      text = null;
      var box = add(el("div", "approval risk-" + e.risk));
      box.setAttribute("data-request", e.request_id);
      box.appendChild(el("strong", "", "Approval needed: " + e.action));
      box.appendChild(el("div", "resource", e.resource));
      box.appendChild(el("div", "", "risk: " + e.risk));
      var row = el("div", "buttons");
      (e.options || []).forEach(function (o) {
        var b = el("button", o === "deny" ? "deny" : "allow", LABELS[o] || o);
        b.type = "button";
        b.setAttribute("data-decision", o);
        b.addEventListener("click", function () {
          row.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
          post(live.getAttribute("data-approvals") + encodeURIComponent(e.request_id), { decision: o })
            .then(function (r) {
              box.appendChild(el("div", r.ok ? "ok" : "error", r.ok ? "answered: " + o : "failed: HTTP " + r.status));
            });
        });
        row.appendChild(b);
      });
      box.appendChild(row);
      setState("waiting for approval");
    });
    on("approval_decision", function (e) {
      var box = log.querySelector('[data-request="' + CSS.escape(e.request_id) + '"]');
      if (box) box.classList.add("decided");
      add(el("div", "decision", "decision: " + e.decision));
      setState("working…");
    });
    on("budget", function (e) {
      var usd = function (v) { return "$" + (v > 0 && v < 1 ? v.toFixed(4) : v.toFixed(2)); };
      if (budget) budget.textContent = usd(e.spent_usd) + " of " + (e.limit_usd === null ? "no cap" : usd(e.limit_usd));
    });
    on("final", function () { text = null; setState("done"); add(el("div", "done", "— turn finished —")); });
    on("error", function (e) {
      text = null;
      setState("failed");
      add(el("div", "error", "error[" + e.code + "]: " + e.message));
    });
  }

  var prompt = document.querySelector('form[data-enhance="prompt"]');
  if (prompt && live) {
    prompt.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var area = prompt.querySelector("textarea");
      var value = area.value;
      if (!value.trim()) return;
      document.getElementById("turn").appendChild(el("div", "msg user", value));
      area.value = "";
      post(prompt.getAttribute("action"), { text: value }).then(function (r) {
        if (!r.ok) {
          r.json().then(function (b) {
            document.getElementById("turn").appendChild(el("div", "error", (b && b.error && b.error.message) || ("HTTP " + r.status)));
          }, function () {});
        }
      });
    });
  }

  document.querySelectorAll("[data-check-all]").forEach(function (b) {
    b.addEventListener("click", function () {
      var on = b.getAttribute("data-check-all") === "1";
      document.querySelectorAll('input[name="path"]').forEach(function (c) { c.checked = on; });
    });
  });
})();
`;
