/* login.js: logging in and out. Provider names, the login popup and its answer by postMessage
 * (only from the API's origin and the popup we opened), and every widget redrawn when the
 * session changes. */

var PROVIDERS = { wordpress: "WordPress.com", twitter: "X (Twitter)", facebook: "Facebook", google: "Google", dev: "Demo login" };
var ACCOUNTS = { dev: "demo" };

function providerName(p, account) {
  if (account && ACCOUNTS[p]) return ACCOUNTS[p];
  if (PROVIDERS[p]) return PROVIDERS[p];
  var n = String(p || "").replace(/^oidc-/, "");
  return n.charAt(0).toUpperCase() + n.slice(1);
}

W.sessionChanged = function () {
  var self = this;
  this.forms.forEach(function (f) { if (!f.o.edit) self.drawAuth(f); });
  this.nodes.forEach(function (n) { self.draw(n); });
};

function openPopup(url) {
  var w = 520, hgt = 640;
  var x = Math.max(0, (window.screenX || 0) + ((window.outerWidth || w) - w) / 2);
  var y = Math.max(0, (window.screenY || 0) + ((window.outerHeight || hgt) - hgt) / 2);
  var popup = window.open(url, "colloquy-login", "popup=yes,width=" + w + ",height=" + hgt + ",left=" + x + ",top=" + y);
  if (popup) { try { popup.focus(); } catch (e) { /* ignore */ } }
  return popup;
}
W.login = function (provider, f) {
  var url = API + "/auth/" + enc(provider) + "/login?site=" + enc(this.site) + "&origin=" + enc(location.origin);
  var popup = openPopup(url);
  if (!popup) { this.formMsg(f, this.t("blocked"), true); return; }
  pendingLogin = { popup: popup, widget: this, form: f };
  return this;
};
W.loggedIn = function (f) {
  var s = this;
  this.say(s.t("loggedIn", { name: session.user.name }));
  if (f) { this.formMsg(f, ""); if (f.text.isConnected) f.text.focus(); }
  this.merge();
};
W.logout = function (change, f) {
  var self = this;
  if (session) api("POST", "/api/v1/logout");
  setSession(null);
  // Own comments still awaiting moderation are not for the public view.
  this.nodes.forEach(function (n) { if (n.c.status === "pending" && !n.kids.querySelector(".c")) { n.el.remove(); self.nodes.delete(n.c.id); } });
  this.empty();
  this.say(this.t("loggedOut"));
  if (change && f) {
    var b = f.auth.querySelector(".prov");
    if (b) b.focus();
  } else if (f && f.text.isConnected) f.text.focus();
  else if (this.main) this.main.text.focus();
};

/* ---------- login popup answers ---------- */
var pendingLogin = null;
window.addEventListener("message", function (e) {
  var p = pendingLogin;
  if (!p || e.origin !== API_ORIGIN || e.source !== p.popup) return;
  var d = e.data;
  if (!d || typeof d !== "object") return;
  if (d.type === "colloquy:login" && typeof d.token === "string" && d.user && typeof d.user === "object") {
    pendingLogin = null;
    var u = d.user;
    setSession({ token: d.token, user: { id: String(u.id || ""), name: String(u.name || ""), avatar_url: u.avatar_url || null, profile_url: u.profile_url || null, provider: String(u.provider || "") } });
    p.widget.loggedIn(p.form);
  } else if (d.type === "colloquy:login-error") {
    pendingLogin = null;
    p.widget.formMsg(p.form, p.widget.t("loginFailed", { msg: String(d.message || d.code || "") }), true);
    var b = p.form.auth.querySelector(".prov");
    if (b) b.focus();
  }
});
