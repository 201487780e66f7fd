// The account page (/account/): a reader's comments on every blog, their logins, export and
// erase. It talks only to /account/api on its own origin; its session is an HttpOnly cookie it
// never sees. Every request carries X-Colloquy-Account (the server's CSRF guard wants it).
"use strict";
(function () {
  var NAMES = { wordpress: "WordPress.com", twitter: "X (Twitter)", facebook: "Facebook", google: "Google", dev: "Demo login" };
  var ERRORS = {
    identity_in_use: "That login already belongs to another commenter with comments or a ban, so it was not linked.",
    access_denied: "The login was cancelled.",
    expired_state: "The login took too long; please try again.",
    invalid_state: "This login link is invalid, expired or was started in another browser; please start again here.",
    provider_unavailable: "This login method is not available right now.",
    account_gone: "This account no longer exists."
  };
  var STATUS = { approved: "published", pending: "awaiting moderation", spam: "spam", rejected: "rejected", deleted: "deleted" };
  var $ = function (id) { return document.getElementById(id); };
  var providers = [];
  var me = null;
  var cursor = null;

  function name(p) { return NAMES[p] || (p.indexOf("oidc-") === 0 ? p.slice(5) : p); }
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k]; else if (k === "onclick") e.addEventListener("click", attrs[k]); else e.setAttribute(k, attrs[k]);
    });
    (kids || []).forEach(function (c) { e.append(c); });
    return e;
  }
  function notice(text, error) {
    var n = $("notice");
    n.textContent = text;
    n.className = error ? "error" : "";
    n.hidden = !text;
  }
  function api(method, path, body) {
    var headers = { "X-Colloquy-Account": "1" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch("/account/api" + path, { method: method, headers: headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (r) {
        var type = r.headers.get("content-type") || "";
        var data = type.indexOf("application/json") === 0 ? r.json().catch(function () { return null; }) : Promise.resolve(null);
        return data.then(function (d) { return { status: r.status, ok: r.ok, data: d, res: r }; });
      })
      .catch(function () { return { status: 0, ok: false, data: null }; });
  }
  function explain(r) {
    if (r.data && r.data.error && r.data.error.message) return r.data.error.message;
    return r.status ? "The server answered " + r.status + "." : "The server could not be reached.";
  }
  function safeUrl(u) {
    try { var x = new URL(u); return x.protocol === "https:" || x.protocol === "http:" ? x.href : null; } catch (e) { return null; }
  }

  function showLogin() {
    me = null;
    $("account").hidden = true;
    $("login").hidden = false;
    var box = $("providers");
    box.textContent = "";
    providers.forEach(function (p) {
      box.append(el("a", { class: "btn", href: "/account/login/" + encodeURIComponent(p), "data-provider": p, text: "Log in with " + name(p) }));
    });
    if (!providers.length) box.append(el("p", { text: "No login method is configured on this server." }));
  }

  function showAccount(data) {
    me = data;
    $("login").hidden = true;
    $("account").hidden = false;
    $("name").textContent = data.name;
    $("via").textContent = "(logged in with " + name(data.provider) + ")";
    var list = $("identities");
    list.textContent = "";
    var last = data.identities.length < 2;
    data.identities.forEach(function (i) {
      var b = el("button", { type: "button", class: "link", "data-unlink": i.provider, text: "Unlink" });
      if (last) { b.disabled = true; b.title = "Your only login can't be unlinked; erase the account instead."; }
      b.addEventListener("click", function () { unlink(i); });
      list.append(el("li", { "data-identity": i.provider }, [name(i.provider) + (i.email ? " (" + i.email + ")" : "") + " ", b]));
    });
    var have = data.identities.map(function (i) { return i.provider; });
    var others = providers.filter(function (p) { return have.indexOf(p) < 0; });
    var box = $("link-providers");
    box.textContent = "";
    others.forEach(function (p) {
      box.append(el("button", { type: "button", class: "secondary", "data-link": p, text: name(p), onclick: function () { link(p); } }));
    });
    $("link-more").hidden = !others.length;
    $("comment-list").textContent = "";
    cursor = null;
    loadComments();
  }

  function loadComments() {
    var q = "?limit=20" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
    $("more").hidden = true;
    return api("GET", "/comments" + q).then(function (r) {
      if (!r.ok) { notice("Your comments could not be loaded: " + explain(r), true); return; }
      var list = $("comment-list");
      r.data.items.forEach(function (c) {
        var href = c.url && safeUrl(c.url);
        var page = href ? el("a", { href: href, target: "_blank", rel: "noopener noreferrer nofollow", text: c.title || c.uri }) : el("span", { text: c.title || c.uri });
        var body = el("div", { class: "body" });
        body.innerHTML = c.html; // sanitized by the server (as the widget shows it)
        list.append(el("li", { class: "comment", "data-site": c.site, "data-status": c.status }, [
          el("div", { class: "meta" }, [
            el("strong", { class: "site", text: c.site_name }), " · ", page, " · ",
            el("time", { datetime: c.created_at, text: new Date(c.created_at).toLocaleString() }),
            el("span", { class: "status status-" + c.status, text: STATUS[c.status] || c.status })
          ]),
          body
        ]));
      });
      cursor = r.data.next_cursor;
      $("more").hidden = !cursor;
      $("no-comments").hidden = list.children.length > 0;
    });
  }

  function link(p) {
    api("POST", "/links/" + encodeURIComponent(p)).then(function (r) {
      if (r.ok && r.data && typeof r.data.url === "string") { location.assign(r.data.url); return; }
      notice("Linking could not start: " + explain(r), true);
    });
  }

  function unlink(i) {
    if (!window.confirm("Unlink your " + name(i.provider) + " login? It will no longer open this account, and sessions opened with it end.")) return;
    api("DELETE", "/identities/" + encodeURIComponent(i.id)).then(function (r) {
      if (!r.ok) { notice("Unlinking failed: " + explain(r), true); return; }
      notice("Your " + name(i.provider) + " login is unlinked.");
      refresh();
    });
  }

  function exportData() {
    api("GET", "/export").then(function (r) {
      if (!r.ok) { notice("The export failed: " + explain(r), true); return; }
      var blob = new Blob([JSON.stringify(r.data, null, 2)], { type: "application/json" });
      var url = URL.createObjectURL(blob);
      var a = el("a", { href: url, download: "colloquy-export.json" });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
      notice("Your data was downloaded as colloquy-export.json.");
    });
  }

  function erase() {
    if (!$("erase-confirm").checked) return;
    var mode = document.querySelector("input[name=comments]:checked").value;
    api("DELETE", "/me?comments=" + mode + "&confirm=erase").then(function (r) {
      if (!r.ok) { notice("Erasing failed: " + explain(r), true); return; }
      $("erase-confirm").checked = false;
      $("erase-button").disabled = true;
      notice("Your account was erased" + (mode === "remove" ? " and your comments removed." : "; your comments now show as “deleted user”."));
      showLogin();
    });
  }

  function refresh() {
    return api("GET", "/me").then(function (r) {
      if (r.ok) showAccount(r.data);
      else if (r.status === 401) showLogin();
      else notice("Your account could not be loaded: " + explain(r), true);
    });
  }

  function readFragment() {
    var h = new URLSearchParams(location.hash.replace(/^#/, ""));
    if (!location.hash) return;
    history.replaceState(null, "", location.pathname);
    // Anyone can send a link to this page with any fragment: only known codes and a provider
    // code's shape are shown, never free text from the link, on Colloquy's own origin.
    var err = h.get("error"), linked = h.get("linked");
    if (err) notice(Object.prototype.hasOwnProperty.call(ERRORS, err) ? ERRORS[err] : "The login failed.", true);
    else if (linked && /^(?:[a-z]{2,20}|oidc-[a-z0-9-]{1,40})$/.test(linked)) notice("Your " + name(linked) + " login is linked: it now opens this account too.");
  }

  document.addEventListener("DOMContentLoaded", function () {
    readFragment();
    $("logout").addEventListener("click", function () {
      api("POST", "/logout").then(function () { notice("You are logged out."); showLogin(); });
    });
    $("more").addEventListener("click", loadComments);
    $("export").addEventListener("click", exportData);
    $("erase-confirm").addEventListener("change", function (e) { $("erase-button").disabled = !e.target.checked; });
    $("erase-button").addEventListener("click", erase);
    api("GET", "/providers").then(function (r) {
      providers = r.ok && r.data ? r.data.providers : [];
      refresh();
    });
  });
})();
