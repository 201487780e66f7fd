/* core.js: what every other part leans on. Where the script was loaded from (the API is the
 * same origin), the strings and stylesheet the binary injects, DOM and text helpers, storage that
 * survives a browser refusing localStorage, the one session per API origin shared by every widget
 * on the page (and other tabs), and api(), which never throws. */

// Both are JSON literals put in by the binary: STR maps a language to its strings.
var CSS = "__COLLOQUY_CSS__";
var STR = "__COLLOQUY_STRINGS__";
var script = document.currentScript;
if (!script || !script.src) return;
var SRC = new URL(script.src, location.href);
var API = SRC.href.replace(/\/embed\.js(?:[?#].*)?$/, "");
var API_ORIGIN = SRC.origin;
var KEY = "colloquy:token:" + API_ORIGIN;
var SCRIPT_SITE = script.getAttribute("data-site");

/* ---------- small helpers ---------- */
function h(tag, props, kids) {
  var el = document.createElement(tag);
  if (props) {
    Object.keys(props).forEach(function (k) {
      var v = props[k];
      if (v == null || v === false) return;
      if (k === "text") el.textContent = v;
      else if (k === "class") el.className = v;
      else if (k === "hue") el.style.setProperty("--h", v); // CSSOM, not a style attribute: strict CSPs allow it
      else if (typeof v === "function") el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : String(v));
    });
  }
  (kids || []).forEach(function (c) { if (c != null && c !== false) el.append(c); });
  return el;
}
function safeUrl(u) {
  if (typeof u !== "string" || !u) return null;
  try {
    var x = new URL(u);
    return x.protocol === "http:" || x.protocol === "https:" ? x.href : null;
  } catch (e) { return null; }
}
function enc(s) { return encodeURIComponent(s); }
function fill(s, v) {
  return String(s).replace(/\{(\w+)\}/g, function (m, k) { return v && v[k] != null ? String(v[k]) : m; });
}
function randomKey() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  var a = new Uint8Array(16);
  crypto.getRandomValues(a);
  return Array.prototype.map.call(a, function (b) { return (b + 256).toString(16).slice(1); }).join("");
}
function chars(s) { return Array.from(s).length; }
function initials(name) {
  var parts = String(name || "?").trim().split(/\s+/).filter(Boolean);
  var s = parts.slice(0, 2).map(function (p) { return Array.from(p)[0]; }).join("");
  return (s || "?").toUpperCase();
}
function hue(s) {
  var x = 0;
  for (var i = 0; i < s.length; i++) x = (x * 31 + s.charCodeAt(i)) % 360;
  return x;
}
var store = (function () {
  var mem = {};
  function ls() { try { return window.localStorage; } catch (e) { return null; } }
  return {
    get: function (k) { try { var s = ls(); return s ? s.getItem(k) : mem[k] || null; } catch (e) { return mem[k] || null; } },
    set: function (k, v) { try { ls().setItem(k, v); } catch (e) { mem[k] = v; } },
    del: function (k) { try { ls().removeItem(k); } catch (e) { /* none */ } delete mem[k]; }
  };
})();

/* ---------- the session (one per API origin, shared by every widget on the page) ---------- */
var session = null;
(function () {
  try {
    var s = JSON.parse(store.get(KEY) || "null");
    if (s && typeof s.token === "string") session = s;
  } catch (e) { /* ignore */ }
})();
var instances = [];
function setSession(s) {
  session = s;
  if (s) store.set(KEY, JSON.stringify(s));
  else store.del(KEY);
  instances.forEach(function (w) { w.sessionChanged(); });
}
window.addEventListener("storage", function (e) {
  if (e.key !== KEY) return;
  try { session = JSON.parse(e.newValue || "null"); } catch (x) { session = null; }
  instances.forEach(function (w) { w.sessionChanged(); });
});

/* ---------- the API: answers {ok, status, data, error, retryAfter} and never throws ---------- */
function api(method, path, body, opts) {
  opts = opts || {};
  var headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  var token = opts.anonymous ? null : session && session.token;
  if (token) headers.Authorization = "Bearer " + token;
  if (opts.idem) headers["Idempotency-Key"] = opts.idem;
  return fetch(API + path, {
    method: method, headers: headers, mode: "cors", credentials: "omit",
    body: body === undefined ? undefined : JSON.stringify(body)
  }).then(function (res) {
    var type = res.headers.get("Content-Type") || "";
    var parse = type.indexOf("json") >= 0 ? res.json().catch(function () { return null; }) : Promise.resolve(null);
    return parse.then(function (data) {
      var out = { ok: res.ok, status: res.status, data: data };
      if (!res.ok) {
        out.error = (data && data.error) || { code: "http_" + res.status, message: res.statusText };
        var ra = parseInt(res.headers.get("Retry-After") || "", 10);
        out.retryAfter = ra > 0 ? ra : out.error.details && out.error.details.retry_after_s;
        if (res.status === 401 && token && session && session.token === token) setSession(null);
      }
      return out;
    });
  }, function () {
    return { ok: false, status: 0, error: { code: "network", message: "" } };
  });
}

// This browser's guest secret: the server knows a guest by email *and* this key, so someone
// else typing the same email is another guest. Made once, kept like the session.
var GUEST_KEY = "colloquy:guest-key:" + API_ORIGIN;
function guestKey() {
  var k = store.get(GUEST_KEY);
  if (!k || !/^[A-Za-z0-9_-]{22,128}$/.test(k)) {
    var a = new Uint8Array(32);
    crypto.getRandomValues(a);
    k = Array.prototype.map.call(a, function (b) { return (b + 256).toString(16).slice(1); }).join("");
    store.set(GUEST_KEY, k);
  }
  return k;
}
