/* form.js: the comment form, for a new comment, a reply or an edit. Who is writing (logged in,
 * login buttons, guest fields), the length counter, sending with an idempotency key, and the
 * server's refusal shown at the fields it names. */

var formSeq = 0;
W.form = function (o) {
  var self = this, s = this;
  var id = "m" + ++formSeq;
  var max = (this.config && this.config.body_max_chars) || 10000;
  var f = { o: o };
  var label = o.edit ? s.t("labelEdit") : o.parent ? s.t("labelReply", { name: o.parent.c.author.name }) : s.t("label");
  f.text = h("textarea", { id: id + "b", rows: o.parent || o.edit ? 4 : 5, placeholder: s.t("placeholder"), "aria-describedby": id + "h " + id + "k" });
  if (o.edit) f.text.value = sourceOf(o.edit.c);
  var counter = h("span", { class: "counter", id: id + "k" });
  var upd = function () {
    var n = chars(f.text.value);
    counter.textContent = n > max ? s.t("over", { n: n - max }) : n + " / " + max;
    counter.classList.toggle("over", n > max);
  };
  f.text.addEventListener("input", upd);
  upd();
  f.msg = h("div", { class: "msg", role: "status", "aria-live": "polite" });
  f.auth = h("div", { class: "auth" });
  f.submit = h("button", { type: "submit", class: "btn primary", text: o.edit ? s.t("save") : s.t("post") });
  var buttons = h("div", { class: "row-btns" }, [f.submit]);
  var cancel = function () {
    var n = o.parent || o.edit;
    self.dropForm(f);
    if (n) self.closeSlot(n);
    if (o.back && o.back.isConnected) o.back.focus();
  };
  if (o.parent || o.edit) buttons.append(h("button", { type: "button", class: "btn ghost", text: s.t("cancel"), onclick: cancel }));
  f.el = h("form", { class: "form" + (o.parent ? " reply" : "") + (o.edit ? " edit" : ""), novalidate: true, onsubmit: function (e) { e.preventDefault(); self.send(f); } }, [
    h("label", { class: "lbl", for: id + "b", text: label }),
    f.text,
    h("div", { class: "under" }, [h("span", { class: "hint", id: id + "h", text: s.t("hint") }), counter]),
    o.edit ? null : f.auth,
    buttons,
    f.msg
  ]);
  f.el.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && (o.parent || o.edit)) cancel();
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && e.target === f.text) { e.preventDefault(); self.send(f); }
  });
  f.id = id;
  this.forms.push(f);
  if (!o.edit) this.drawAuth(f);
  var closed = this.config && this.config.closed || this.thread && this.thread.locked;
  if (closed && !o.edit) {
    f.el = h("p", { class: "closed", text: this.config.closed ? s.t("closed") : s.t("locked") });
    f.text = h("textarea");
  }
  return f;
};
W.dropForm = function (f) { this.forms = this.forms.filter(function (x) { return x !== f; }); };

W.drawAuth = function (f) {
  var self = this, s = this, cfg = this.config || {};
  var keep = {};
  f.auth.querySelectorAll("input").forEach(function (i) { keep[i.name] = i.value; });
  f.auth.textContent = "";
  f.guest = null;
  if (session && session.user) {
    var u = session.user;
    if (f.o.parent) return; // the main form already says who is writing
    var av = safeUrl(u.avatar_url);
    f.auth.append(h("div", { class: "who" }, [
      av ? h("img", { src: av, alt: "", width: 32, height: 32, referrerpolicy: "no-referrer" }) : h("span", { class: "ini small", hue: hue(u.name || ""), "aria-hidden": "true", text: initials(u.name) }),
      h("p", null, [
        h("strong", { text: u.name }), h("br"),
        s.t("using", { p: providerName(u.provider, true) }), " (",
        h("button", { type: "button", class: "link", text: s.t("logout"), onclick: function () { self.logout(false); } }), " / ",
        h("button", { type: "button", class: "link", text: s.t("change"), onclick: function () { self.logout(true, f); } }), ")"
      ])
    ]));
    // Everything beyond this blog (comments elsewhere, linking logins, export, erase) is on
    // the account page, on the comment server's own origin: this page's token can't do it.
    f.auth.append(h("p", { class: "link-more" }, [
      h("a", { class: "account", href: API + "/account/", target: "_blank", rel: "noopener", title: s.t("accountHint"), text: s.t("account") })
    ]));
    return;
  }
  var providers = (cfg.providers || []).filter(function (p) { return p !== "guest"; });
  if (providers.length) {
    f.auth.append(h("p", { class: "prompt", text: s.t("loginPrompt") }),
      h("div", { class: "providers" }, providers.map(function (p) {
        return h("button", { type: "button", class: "btn prov prov-" + p.replace(/[^a-z0-9-]/g, ""), "data-provider": p, text: providerName(p), onclick: function () { self.login(p, f); } });
      })));
  }
  if (cfg.guests) {
    var field = function (name, type, req, note, auto) {
      var fid = f.id + name;
      return h("div", { class: "field" }, [
        h("label", { for: fid }, [s.t(name), h("span", { class: "opt", text: req ? (note ? " (" + s.t(note) + ")" : "") : " (" + s.t("optional") + ")" })]),
        h("input", { id: fid, name: name, type: type, autocomplete: auto, required: req, value: keep[name] || (self.main && self.main.guest && self.main.guest[name] && self.main.guest[name].value) || null, maxlength: name === "name" ? 80 : 254 })
      ]);
    };
    var g = h("fieldset", { class: "guest" }, [
      h("legend", { text: providers.length ? s.t("guestPrompt") : s.t("guestOnly") }),
      h("div", { class: "grid" }, [field("name", "text", true, null, "name"), field("email", "email", true, "emailNote", "email"), field("website", "url", false, null, "url")])
    ]);
    f.auth.append(g);
    f.guest = { name: g.querySelector("[name=name]"), email: g.querySelector("[name=email]"), website: g.querySelector("[name=website]") };
  }
};

W.formMsg = function (f, msg, bad) {
  f.msg.textContent = "";
  f.msg.classList.toggle("bad", !!bad);
  if (msg) f.msg.append(h("p", { text: msg }));
};

W.send = function (f) {
  var self = this, s = this, o = f.o;
  if (f.busy) return;
  var body = f.text.value;
  f.el.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
  if (!body.trim()) { this.formMsg(f, s.t("needBody"), true); f.text.setAttribute("aria-invalid", "true"); f.text.focus(); return; }
  var req;
  if (o.edit) {
    req = { method: "PATCH", path: "/api/v1/comments/" + enc(o.edit.c.id), body: { body: body } };
  } else {
    var payload = { uri: this.uri, body: body };
    if (this.title) payload.title = this.title.slice(0, 300);
    var canon = document.querySelector("link[rel=canonical]");
    var url = safeUrl(canon && canon.href || location.href.split("#")[0]);
    if (url) payload.url = url;
    if (o.parent) payload.parent_id = o.parent.c.id;
    if (!session) {
      if (!f.guest) { this.formMsg(f, s.t("needLogin"), true); var pb = f.auth.querySelector(".prov"); if (pb) pb.focus(); return; }
      var g = f.guest;
      if (!g.name.value.trim() || !g.email.value.trim()) {
        this.formMsg(f, s.t("needGuest"), true);
        (g.name.value.trim() ? g.email : g.name).focus();
        return;
      }
      payload.guest = { name: g.name.value.trim(), email: g.email.value.trim(), key: guestKey() };
      if (g.website.value.trim()) payload.guest.website = g.website.value.trim();
    }
    req = { method: "POST", path: this.path("/comments"), body: payload };
  }
  // Same text again (a retry) reuses the key, so a lost answer can't make a second comment.
  var sig = JSON.stringify([session && session.token, req.body]);
  if (f.sig !== sig) { f.sig = sig; f.key = randomKey(); }
  f.busy = true;
  f.submit.disabled = true;
  f.el.setAttribute("aria-busy", "true");
  var label = f.submit.textContent;
  f.submit.textContent = o.edit ? s.t("saving") : s.t("posting");
  this.formMsg(f, "");
  api(req.method, req.path, req.body, { idem: o.edit ? null : f.key }).then(function (r) {
    f.busy = false;
    f.submit.disabled = false;
    f.el.removeAttribute("aria-busy");
    f.submit.textContent = label;
    if (!r.ok) return self.failed(f, r);
    f.sig = null;
    var c = r.data.comment, status = r.data.status || c.status || "approved";
    c.status = status;
    remember(c.id, body);
    var n = self.nodes.get(c.id);
    var wasShown = n && n.c.status === "approved";
    if (n) self.update(n, c);
    else n = self.insert(c, !o.parent && self.sort === "newest");
    if (!n) return;
    n.reasons = status === "approved" ? null : r.data.reasons;
    self.draw(n);
    if (status === "approved" && !wasShown && !o.edit) self.setCount(self.count + 1);
    f.text.value = "";
    f.text.dispatchEvent(new Event("input"));
    var done = status === "approved" ? (o.edit ? s.t("saved") : s.t("posted")) : s.t("pending");
    if (o.parent || o.edit) { self.dropForm(f); self.closeSlot(o.parent || o.edit); }
    else self.formMsg(f, status === "approved" ? done : "");
    self.say(done);
    n.el.focus();
    n.el.classList.add("fresh");
  });
};
W.failed = function (f, r) {
  var self = this, s = this, e = r.error || {};
  if (e.code === "validation_failed" && e.details && typeof e.details === "object") {
    var names = { body: s.t("fieldBody"), "guest.name": s.t("name"), "guest.email": s.t("email"), "guest.website": s.t("website") };
    var inputs = { body: f.text, "guest.name": f.guest && f.guest.name, "guest.email": f.guest && f.guest.email, "guest.website": f.guest && f.guest.website };
    var ul = h("ul");
    var first = null;
    Object.keys(e.details).forEach(function (k) {
      ul.append(h("li", { text: (names[k] || k) + ": " + String(e.details[k]) }));
      if (inputs[k]) { inputs[k].setAttribute("aria-invalid", "true"); first = first || inputs[k]; }
    });
    f.msg.textContent = "";
    f.msg.classList.add("bad");
    f.msg.append(h("p", { text: s.t("fields") }), ul);
    if (first) first.focus();
    return;
  }
  this.formMsg(f, this.explain(r), true);
  if (e.code === "unauthenticated") { var b = f.auth.querySelector(".prov"); if (b) b.focus(); }
  else f.text.focus();
  return self;
};
