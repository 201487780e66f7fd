/* actions.js: what opens under one comment (its slot): the reply and edit forms, the delete
 * confirmation, the report form. */

// The API's report reasons in the order offered; the first is preselected. Code, not strings:
// the order must not depend on how a language file lists them.
var REASONS = ["spam", "abuse", "off_topic", "other"];

W.closeSlot = function (n) {
  n.slot.textContent = "";
  n.el.classList.remove("editing");
};
W.openReply = function (n, btn) {
  var self = this;
  this.closeSlot(n);
  var f = this.form({ parent: n, back: btn });
  n.slot.append(f.el);
  f.text.focus();
  return self;
};
W.openEdit = function (n, btn) {
  var self = this;
  this.closeSlot(n);
  var f = this.form({ edit: n, back: btn });
  n.slot.append(f.el);
  n.el.classList.add("editing");
  f.text.focus();
  return self;
};
W.askDelete = function (n, btn) {
  var self = this, s = this;
  this.closeSlot(n);
  var msg = h("p", { class: "tell", role: "status" });
  var no = h("button", { type: "button", class: "btn ghost", text: s.t("cancel"), onclick: function () { self.closeSlot(n); btn.focus(); } });
  var yes = h("button", { type: "button", class: "btn danger", text: s.t("delYes"), onclick: function () {
    yes.disabled = true;
    api("DELETE", "/api/v1/comments/" + enc(n.c.id)).then(function (r) {
      yes.disabled = false;
      if (!r.ok) { msg.textContent = self.explain(r); return; }
      var next = n.el.parentElement && n.el.parentElement.closest(".c");
      self.remove(n.c.id);
      self.say(s.t("deleted"));
      forget(n.c.id);
      (next || self.heading).focus();
    });
  } });
  var box = h("div", { class: "confirm", role: "group", "aria-label": s.t("delAsk") }, [h("p", { text: s.t("delAsk") }), h("div", { class: "row-btns" }, [yes, no]), msg]);
  box.addEventListener("keydown", function (e) { if (e.key === "Escape") { self.closeSlot(n); btn.focus(); } });
  n.slot.append(box);
  yes.focus();
};
W.openFlag = function (n, btn) {
  var self = this, s = this;
  if (btn.getAttribute("aria-expanded") === "true") { this.closeSlot(n); btn.setAttribute("aria-expanded", "false"); return; }
  this.closeSlot(n);
  if (!session) { this.tell(n, s.t("needLogin")); return; }
  btn.setAttribute("aria-expanded", "true");
  var id = "f" + n.c.id;
  var sel = h("select", { id: id + "r" }, REASONS.map(function (k) { return h("option", { value: k, text: (s.s.reasons || STR.en.reasons)[k] }); }));
  var note = h("input", { id: id + "n", type: "text", maxlength: "1000" });
  var msg = h("p", { class: "msg", role: "status" });
  var close = function () { self.closeSlot(n); btn.setAttribute("aria-expanded", "false"); btn.focus(); };
  var send = h("button", { type: "submit", class: "btn", text: s.t("send") });
  var form = h("form", { class: "flag", onsubmit: function (e) {
    e.preventDefault();
    send.disabled = true;
    var body = { reason: sel.value };
    if (note.value.trim()) body.note = note.value.trim();
    api("POST", "/api/v1/comments/" + enc(n.c.id) + "/flags", body).then(function (r) {
      send.disabled = false;
      if (r.ok || r.status === 409) {
        self.closeSlot(n);
        btn.setAttribute("aria-expanded", "false");
        self.tell(n, r.ok ? s.t("reported") : s.t("already"));
        btn.focus();
      } else msg.textContent = self.explain(r);
    });
  } }, [
    h("div", { class: "field" }, [h("label", { for: id + "r", text: s.t("reason") }), sel]),
    h("div", { class: "field" }, [h("label", { for: id + "n" }, [s.t("note"), h("span", { class: "opt", text: " (" + s.t("optional") + ")" })]), note]),
    h("div", { class: "row-btns" }, [send, h("button", { type: "button", class: "btn ghost", text: s.t("cancel"), onclick: close })]),
    msg
  ]);
  form.addEventListener("keydown", function (e) { if (e.key === "Escape") close(); });
  n.slot.append(form);
  sel.focus();
};
