/* widget.js: one widget on the page. Its Shadow DOM and skeleton, its language (strings,
 * plurals, dates), and an API error put into the reader's words. Later parts add methods to W. */

function Widget(host) {
  var self = this;
  var data = host.dataset;
  this.host = host;
  this.site = data.site || SCRIPT_SITE;
  this.uri = data.uri || location.pathname;
  this.title = data.title || document.title;
  var lang = (data.lang || document.documentElement.lang || navigator.language || "en").toLowerCase().slice(0, 2);
  this.lang = STR[lang] ? lang : "en";
  this.s = STR[this.lang];
  this.plural = new Intl.PluralRules(this.lang);
  this.rtf = new Intl.RelativeTimeFormat(this.lang, { numeric: "auto" });
  this.dtf = new Intl.DateTimeFormat(this.lang, { dateStyle: "long", timeStyle: "short" });
  this.sort = "oldest";
  this.nodes = new Map();
  this.forms = [];
  this.votes = {};
  this.count = 0;
  this.cursor = null;
  this.config = null;

  var shadow = host.attachShadow({ mode: "open" });
  try {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    shadow.adoptedStyleSheets = [sheet];
  } catch (e) {
    shadow.append(h("style", { text: CSS }));
  }
  var theme = data.theme === "light" || data.theme === "dark" ? data.theme : "auto";
  this.root = h("div", { class: "root", "data-theme": theme, lang: this.lang });
  shadow.append(this.root);

  this.status = h("div", { class: "sr", role: "status", "aria-live": "polite" });
  this.heading = h("h3", { class: "count", tabindex: "-1", text: this.t("loading") });
  this.sortSel = h("select", { id: "sort", onchange: function () { self.sort = self.sortSel.value; self.reload(); } },
    ["oldest", "newest", "top"].map(function (k) { return h("option", { value: k, text: self.t(k) }); }));
  this.formSlot = h("div", { class: "main-form" });
  this.list = h("div", { class: "list" });
  this.notice = h("div", { class: "notice", role: "status" });
  this.moreBtn = h("button", { type: "button", class: "btn more", hidden: true, text: this.t("more"), onclick: function () { self.loadMore(); } });
  this.root.append(
    h("div", { class: "bar" }, [this.heading, h("div", { class: "sort" }, [h("label", { for: "sort", text: this.t("sort") }), this.sortSel])]),
    this.formSlot, this.notice, this.list, this.moreBtn,
    h("p", { class: "powered", text: this.t("powered") }),
    this.status
  );
  setInterval(function () { self.tick(); }, 60000);
  this.start();
}
var W = Widget.prototype;

W.t = function (k, v) {
  var s = this.s[k] != null ? this.s[k] : STR.en[k];
  if (s && typeof s === "object") s = s[this.plural.select(v.n)] || s.other;
  return fill(s, v);
};
W.say = function (msg) {
  var st = this.status;
  st.textContent = "";
  setTimeout(function () { st.textContent = msg; }, 50);
};
W.when = function (secs) {
  secs = Math.max(1, Math.round(secs || 1));
  return secs < 90 ? this.rtf.format(secs, "second") : this.rtf.format(Math.ceil(secs / 60), "minute");
};
W.rel = function (iso) {
  var d = (Date.parse(iso) - Date.now()) / 1000;
  var a = Math.abs(d);
  if (a < 45) return this.rtf.format(0, "second");
  if (a < 2700) return this.rtf.format(Math.round(d / 60), "minute");
  if (a < 79200) return this.rtf.format(Math.round(d / 3600), "hour");
  if (a < 2246400) return this.rtf.format(Math.round(d / 86400), "day");
  if (a < 28512000) return this.rtf.format(Math.round(d / 2592000), "month");
  return this.rtf.format(Math.round(d / 31536000), "year");
};
W.tick = function () {
  var self = this;
  this.root.querySelectorAll("time[datetime]").forEach(function (el) { el.textContent = self.rel(el.getAttribute("datetime")); });
};
W.path = function (rest) { return "/api/v1/sites/" + enc(this.site) + rest; };

/* An API error in plain words. */
W.explain = function (r) {
  var e = r.error || {};
  var s = this;
  switch (e.code) {
    case "network": return s.t("network");
    case "rate_limited": return s.t("rate", { when: s.when(r.retryAfter) });
    case "banned": return s.t("banned");
    case "duplicate_comment": return s.t("duplicate");
    case "rejected": return s.t("rejected", { msg: e.message || "" });
    case "thread_locked": return s.t("locked");
    case "unauthenticated": return s.t("session");
    case "unavailable": return s.t("unavailable");
    default: return e.message || s.t("network");
  }
};
