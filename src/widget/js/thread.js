/* thread.js: the thread as a list. First load, sort order, paging with the server's cursor, the
 * count in the heading, and merging in what the server has and the page doesn't. */

W.start = function () {
  var self = this;
  if (!this.site) { this.heading.textContent = "Colloquy: data-site is missing."; return; }
  this.heading.textContent = this.t("loading");
  Promise.all([api("GET", "/api/v1/sites/" + enc(this.site)), this.fetchPage(null)]).then(function (rs) {
    var cfg = rs[0], page = rs[1];
    if (!cfg.ok || !page.ok) {
      self.heading.textContent = self.t("loadFailed");
      self.notice.textContent = "";
      self.notice.append(h("p", { text: self.explain(cfg.ok ? page : cfg) }),
        h("button", { type: "button", class: "btn", text: self.t("retry"), onclick: function () { self.notice.textContent = ""; self.start(); } }));
      return;
    }
    self.config = cfg.data;
    self.showPage(page.data, true);
    self.main = self.form({});
    self.formSlot.textContent = "";
    self.formSlot.append(self.main.el);
    self.live();
  });
};

W.fetchPage = function (cursor) {
  var self = this;
  var q = "/thread?uri=" + enc(this.uri) + "&sort=" + this.sort + "&limit=50" + (cursor ? "&cursor=" + enc(cursor) : "");
  return api("GET", this.path(q)).then(function (r) {
    // A dropped session was forgotten by api(); read the public thread instead.
    return r.status === 401 ? api("GET", self.path(q), undefined, { anonymous: true }) : r;
  });
};

W.showPage = function (d, first) {
  var self = this;
  if (first) { this.list.textContent = ""; this.nodes.clear(); }
  this.thread = d.thread || {};
  this.setCount(this.thread.comment_count || 0);
  (d.comments || []).forEach(function (c) { self.insert(c, false); });
  this.cursor = d.next_cursor || null;
  this.moreBtn.hidden = !this.cursor;
  this.empty();
};
W.empty = function () {
  var none = !this.list.querySelector(".c");
  var p = this.list.querySelector(".empty");
  if (none && !p) this.list.append(h("p", { class: "empty", text: this.t("empty") }));
  if (!none && p) p.remove();
};
W.setCount = function (n) {
  this.count = Math.max(0, n);
  this.heading.textContent = this.t("count", { n: this.count });
  fillCounts(this.site, this.uri, this.count);
};
W.reload = function () {
  var self = this;
  this.list.setAttribute("aria-busy", "true");
  this.fetchPage(null).then(function (r) {
    self.list.removeAttribute("aria-busy");
    if (r.ok) self.showPage(r.data, true);
    else self.say(self.explain(r));
  });
};
/* Adds what the server has and the page doesn't (after a login or a dropped live connection). */
W.merge = function () {
  var self = this;
  this.fetchPage(null).then(function (r) {
    if (!r.ok) return;
    self.setCount(r.data.thread.comment_count || 0);
    r.data.comments.forEach(function (c) {
      var n = self.nodes.get(c.id);
      if (n) self.update(n, c);
      else self.insert(c, self.sort === "newest" && !c.parent_id);
    });
    self.empty();
  });
};
W.loadMore = function () {
  var self = this;
  var btn = this.moreBtn;
  if (!this.cursor || btn.disabled) return;
  btn.disabled = true;
  this.fetchPage(this.cursor).then(function (r) {
    btn.disabled = false;
    if (!r.ok) { self.say(self.explain(r)); return; }
    var before = self.list.querySelectorAll(".c").length;
    (r.data.comments || []).forEach(function (c) { if (!self.nodes.has(c.id)) self.insert(c, false); });
    self.cursor = r.data.next_cursor || null;
    btn.hidden = !self.cursor;
    var first = self.list.querySelectorAll(".c")[before];
    if (first) first.focus();
  });
};
