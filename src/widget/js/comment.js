/* comment.js: one comment on screen. Drawn from the API's comment (the only innerHTML is the
 * server-sanitized body), votes, the actions it offers this reader, and taking it away. */

W.mine = function (c) {
  return !!(session && session.user && c.author && c.author.id && c.author.id === session.user.id);
};
W.insert = function (c, atTop) {
  var parent = c.parent_id ? this.nodes.get(c.parent_id) : null;
  if (c.parent_id && !parent) return null;
  var n = { c: c, reasons: null };
  n.av = h("div", { class: "av" });
  n.main = h("div", { class: "main" });
  n.slot = h("div", { class: "slot" });
  n.kids = h("div", { class: "kids" });
  n.el = h("article", { class: "c", tabindex: "-1", "data-id": c.id }, [
    h("div", { class: "row" }, [n.av, h("div", { class: "col" }, [n.main, n.slot])]), n.kids
  ]);
  var max = this.config ? this.config.max_depth : 5;
  if ((c.depth || 0) + 1 > max) n.kids.classList.add("flat");
  this.nodes.set(c.id, n);
  this.draw(n);
  var box = parent ? parent.kids : this.list;
  if (atTop) box.prepend(n.el); else box.append(n.el);
  this.empty();
  return n;
};
W.update = function (n, c) {
  if (n.c.status && !c.status && c.status !== n.c.status) c.status = "approved";
  n.c = c;
  this.draw(n);
};
W.draw = function (n) {
  var self = this, s = this, c = n.c, a = c.author || {};
  var deleted = c.deleted || c.status === "deleted";
  n.el.classList.toggle("deleted", !!deleted);
  n.av.textContent = "";
  var avatar = !deleted && safeUrl(a.avatar_url);
  if (avatar) n.av.append(h("img", { src: avatar, alt: "", width: 40, height: 40, loading: "lazy", referrerpolicy: "no-referrer" }));
  else n.av.append(h("span", { class: "ini", hue: deleted ? null : hue(a.name || ""), text: deleted ? "–" : initials(a.name), "aria-hidden": "true" }));

  var profile = !deleted && safeUrl(a.profile_url);
  var name = profile
    ? h("a", { class: "name", href: profile, rel: "nofollow ugc noopener noreferrer", target: "_blank", text: a.name })
    : h("span", { class: "name", text: deleted ? s.t("removed") : a.name });
  var head = h("div", { class: "head" }, [name]);
  if (a.provider === "guest") head.append(h("span", { class: "tag", text: s.t("guestTag") }));
  if (!deleted) {
    head.append(h("time", { datetime: c.created_at, title: this.dtf.format(new Date(c.created_at)), text: this.rel(c.created_at) }));
    if (c.edited_at) head.append(h("span", { class: "edited", title: this.dtf.format(new Date(c.edited_at)), text: s.t("edited") }));
  }
  var pending = c.status === "pending" || c.status === "spam";
  if (pending) head.append(h("span", { class: "tag pend", text: s.t("pendingTag") }));
  n.el.classList.toggle("pending", pending);

  n.main.textContent = "";
  n.main.append(head);
  if (!deleted) {
    var body = h("div", { class: "body" });
    body.innerHTML = typeof c.html === "string" ? c.html : ""; // sanitized by the server
    body.querySelectorAll("a[href]").forEach(function (l) {
      if (!safeUrl(l.href)) l.removeAttribute("href");
      l.setAttribute("rel", "nofollow ugc noopener noreferrer");
      l.setAttribute("target", "_blank");
    });
    n.main.append(body);
  }
  if (pending) {
    var note = h("div", { class: "note" }, [h("p", { text: s.t("pending") })]);
    var msgs = (n.reasons || []).map(function (r) { return r && r.message; }).filter(function (m, i, all) { return m && all.indexOf(m) === i; });
    if (msgs.length) note.append(h("ul", null, msgs.map(function (m) { return h("li", { text: m }); })));
    n.main.append(note);
  }
  if (deleted) return;

  var acts = h("div", { class: "acts" });
  var mine = this.mine(c);
  if (!pending) {
    var my = this.votes[c.id] || 0;
    var vote = function (v) {
      return function () {
        if (!session) return self.tell(n, s.t("needLogin"));
        var val = my === v ? 0 : v;
        api("PUT", "/api/v1/comments/" + enc(c.id) + "/vote", { value: val }).then(function (r) {
          if (!r.ok) return self.tell(n, self.explain(r));
          self.votes[c.id] = r.data.value != null ? r.data.value : val;
          n.c.score = r.data.score;
          self.draw(n);
          var b = n.main.querySelector(v > 0 ? ".up" : ".down");
          if (b) b.focus();
        });
      };
    };
    var group = h("span", { class: mine ? "vote own" : "vote" });
    if (!mine) group.append(h("button", { type: "button", class: "ic up", "aria-label": s.t("up"), "aria-pressed": String(my === 1), text: "▲", onclick: vote(1) }));
    group.append(h("span", { class: "score", "aria-label": s.t("score", { n: c.score || 0 }), text: String(c.score || 0) }));
    if (!mine) group.append(h("button", { type: "button", class: "ic down", "aria-label": s.t("down"), "aria-pressed": String(my === -1), text: "▼", onclick: vote(-1) }));
    acts.append(group);
  }
  var closed = this.config && this.config.closed || this.thread && this.thread.locked;
  var max = this.config ? this.config.max_depth : 5;
  if (!pending && !closed && (c.depth || 0) < max) {
    acts.append(h("button", { type: "button", class: "link", text: s.t("reply"), onclick: function (e) { self.openReply(n, e.currentTarget); } }));
  }
  var win = this.config ? this.config.edit_window_s : 0;
  if (mine && Date.now() - Date.parse(c.created_at) < win * 1000) {
    acts.append(h("button", { type: "button", class: "link", text: s.t("edit"), onclick: function (e) { self.openEdit(n, e.currentTarget); } }));
    acts.append(h("button", { type: "button", class: "link", text: s.t("del"), onclick: function (e) { self.askDelete(n, e.currentTarget); } }));
  }
  if (!mine && !pending) {
    acts.append(h("button", { type: "button", class: "link", "aria-expanded": "false", text: s.t("report"), onclick: function (e) { self.openFlag(n, e.currentTarget); } }));
  }
  n.main.append(acts);
};
/* A short message under one comment. */
W.tell = function (n, msg) {
  var old = n.slot.querySelector(".tell");
  if (old) old.remove();
  n.slot.prepend(h("p", { class: "tell", role: "status", text: msg }));
};
W.remove = function (id) {
  var n = this.nodes.get(id);
  if (!n) return;
  var wasShown = !n.c.deleted && n.c.status !== "pending" && n.c.status !== "spam";
  if (n.kids.querySelector(".c")) {
    n.c = Object.assign({}, n.c, { deleted: true, html: "", status: undefined });
    n.slot.textContent = "";
    this.draw(n);
  } else {
    n.el.remove();
    this.nodes.delete(id);
  }
  if (wasShown) this.setCount(this.count - 1);
  this.empty();
};
