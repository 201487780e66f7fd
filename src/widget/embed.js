/*! Colloquy comment widget. One script tag:
 *   <div id="colloquy-thread" data-site="myblog"></div>
 *   <script src="https://comments.example.com/embed.js" async></script>
 * Optional on the div: data-uri (default: the page's path), data-title, data-lang (en, fr, ru),
 * data-theme (light, dark, auto). Elements marked data-colloquy-count="/uri" get that page's
 * comment count. Everything renders in a Shadow DOM; nothing from the API reaches innerHTML
 * except the server-sanitized comment `html`.
 */
(function () {
  "use strict";
  var CSS = "__COLLOQUY_CSS__";
  var script = document.currentScript;
  if (!script || !script.src) return;
  var SRC = new URL(script.src, location.href);
  var API = SRC.href.replace(/\/embed\.js(?:[?#].*)?$/, "");
  var API_ORIGIN = SRC.origin;
  var KEY = "colloquy:token:" + API_ORIGIN;
  var SCRIPT_SITE = script.getAttribute("data-site");

  /* ---------- strings: every word the widget shows ---------- */
  var STR = {
    en: {
      count: { one: "{n} comment", other: "{n} comments" },
      sort: "Sort by", oldest: "Oldest first", newest: "Newest first", top: "Best first",
      loading: "Loading comments…", loadFailed: "The comments could not be loaded.", retry: "Try again",
      empty: "No comments yet. Be the first to share your thoughts.",
      more: "Load more comments",
      label: "Leave a comment", labelReply: "Reply to {name}", labelEdit: "Edit your comment",
      placeholder: "Enter your comment here...",
      loginPrompt: "Please log in using one of these methods to post your comment:",
      guestPrompt: "Or comment as a guest:", guestOnly: "Comment as a guest:",
      name: "Name", email: "Email", emailNote: "never shown", website: "Website", optional: "optional",
      using: "You are commenting using your {p} account.",
      logout: "Log Out", change: "Change",
      hint: "Markdown works: **bold**, *italic*, [link](https://…), `code`, > quote",
      over: "{n} too many",
      post: "Post Comment", posting: "Posting…", save: "Save", saving: "Saving…", cancel: "Cancel",
      reply: "Reply", edit: "Edit", del: "Delete", report: "Report",
      delAsk: "Delete this comment for good?", delYes: "Yes, delete",
      up: "Upvote", down: "Downvote", score: "Score: {n}",
      edited: "edited", pendingTag: "Awaiting moderation", guestTag: "guest",
      pending: "Your comment is awaiting moderation.",
      posted: "Your comment was published.", saved: "Your changes were saved.",
      deleted: "Your comment was deleted.", removed: "This comment was deleted.",
      reason: "Reason", reasons: { spam: "Spam", abuse: "Abusive or harassing", off_topic: "Off topic", other: "Something else" },
      note: "Note for the moderators", send: "Send report",
      reported: "Thank you. The moderators will take a look.", already: "You have already reported this comment.",
      needLogin: "Log in to do that.", needBody: "Please write your comment first.",
      needGuest: "Please fill in your name and email, or log in.",
      loggedIn: "You are logged in as {name}.", loggedOut: "You are logged out.",
      account: "Manage your account", accountHint: "your comments on every blog, linked logins, your data (opens in a new tab)",
      loginFailed: "Login failed: {msg}", blocked: "The login window was blocked. Please allow pop-ups for this page and try again.",
      session: "Your session has ended. Please log in again; your text is still here.",
      network: "The comment server could not be reached. Check your connection and try again.",
      rate: "You are commenting too quickly. Please try again {when}.",
      banned: "You can't comment on this site.",
      duplicate: "You have already posted this comment.",
      rejected: "Your comment was not accepted: {msg}",
      locked: "Comments are closed on this page.", closed: "Comments are closed.",
      unavailable: "The comment service is busy. Please try again in a moment.",
      fields: "Please check these fields:", fieldBody: "Comment",
      newComment: "New comment from {name}.",
      powered: "Comments by Colloquy"
    },
    fr: {
      count: { one: "{n} commentaire", other: "{n} commentaires" },
      sort: "Trier par", oldest: "Plus anciens", newest: "Plus récents", top: "Meilleurs",
      loading: "Chargement des commentaires…", loadFailed: "Impossible de charger les commentaires.", retry: "Réessayer",
      empty: "Aucun commentaire pour l’instant. Soyez le premier à donner votre avis.",
      more: "Plus de commentaires",
      label: "Laisser un commentaire", labelReply: "Répondre à {name}", labelEdit: "Modifier votre commentaire",
      placeholder: "Saisissez votre commentaire ici...",
      loginPrompt: "Veuillez vous connecter avec l’une de ces méthodes pour publier votre commentaire :",
      guestPrompt: "Ou commentez en tant qu’invité :", guestOnly: "Commenter en tant qu’invité :",
      name: "Nom", email: "E-mail", emailNote: "jamais affiché", website: "Site web", optional: "facultatif",
      using: "Vous commentez à l’aide de votre compte {p}.",
      logout: "Déconnexion", change: "Changer",
      hint: "Markdown accepté : **gras**, *italique*, [lien](https://…), `code`, > citation",
      over: "{n} de trop",
      post: "Publier", posting: "Publication…", save: "Enregistrer", saving: "Enregistrement…", cancel: "Annuler",
      reply: "Répondre", edit: "Modifier", del: "Supprimer", report: "Signaler",
      delAsk: "Supprimer définitivement ce commentaire ?", delYes: "Oui, supprimer",
      up: "Voter pour", down: "Voter contre", score: "Score : {n}",
      edited: "modifié", pendingTag: "En attente de modération", guestTag: "invité",
      pending: "Votre commentaire est en attente de modération.",
      posted: "Votre commentaire a été publié.", saved: "Vos modifications ont été enregistrées.",
      deleted: "Votre commentaire a été supprimé.", removed: "Ce commentaire a été supprimé.",
      reason: "Motif", reasons: { spam: "Spam", abuse: "Abusif ou harcelant", off_topic: "Hors sujet", other: "Autre chose" },
      note: "Note pour les modérateurs", send: "Envoyer le signalement",
      reported: "Merci. Les modérateurs vont examiner ce commentaire.", already: "Vous avez déjà signalé ce commentaire.",
      needLogin: "Connectez-vous pour faire cela.", needBody: "Veuillez d’abord écrire votre commentaire.",
      needGuest: "Indiquez votre nom et votre e-mail, ou connectez-vous.",
      loggedIn: "Vous êtes connecté en tant que {name}.", loggedOut: "Vous êtes déconnecté.",
      account: "Gérer votre compte", accountHint: "vos commentaires sur tous les blogs, vos connexions liées, vos données (nouvel onglet)",
      loginFailed: "Échec de la connexion : {msg}", blocked: "La fenêtre de connexion a été bloquée. Autorisez les fenêtres pop-up pour cette page et réessayez.",
      session: "Votre session a expiré. Reconnectez-vous ; votre texte est conservé.",
      network: "Le serveur de commentaires est injoignable. Vérifiez votre connexion et réessayez.",
      rate: "Vous commentez trop vite. Réessayez {when}.",
      banned: "Vous ne pouvez pas commenter sur ce site.",
      duplicate: "Vous avez déjà publié ce commentaire.",
      rejected: "Votre commentaire n’a pas été accepté : {msg}",
      locked: "Les commentaires sont fermés sur cette page.", closed: "Les commentaires sont fermés.",
      unavailable: "Le service de commentaires est occupé. Réessayez dans un instant.",
      fields: "Veuillez vérifier ces champs :", fieldBody: "Commentaire",
      newComment: "Nouveau commentaire de {name}.",
      powered: "Commentaires par Colloquy"
    },
    ru: {
      count: { one: "{n} комментарий", few: "{n} комментария", many: "{n} комментариев", other: "{n} комментария" },
      sort: "Сортировка", oldest: "Сначала старые", newest: "Сначала новые", top: "Сначала лучшие",
      loading: "Загрузка комментариев…", loadFailed: "Не удалось загрузить комментарии.", retry: "Повторить",
      empty: "Комментариев пока нет. Будьте первым!",
      more: "Показать ещё",
      label: "Оставить комментарий", labelReply: "Ответ для {name}", labelEdit: "Изменить комментарий",
      placeholder: "Введите комментарий...",
      loginPrompt: "Войдите одним из этих способов, чтобы оставить комментарий:",
      guestPrompt: "Или прокомментируйте как гость:", guestOnly: "Комментарий от гостя:",
      name: "Имя", email: "Эл. почта", emailNote: "не публикуется", website: "Сайт", optional: "необязательно",
      using: "Вы комментируете от имени учётной записи {p}.",
      logout: "Выйти", change: "Сменить",
      hint: "Поддерживается Markdown: **жирный**, *курсив*, [ссылка](https://…), `код`, > цитата",
      over: "лишних символов: {n}",
      post: "Отправить", posting: "Отправка…", save: "Сохранить", saving: "Сохранение…", cancel: "Отмена",
      reply: "Ответить", edit: "Изменить", del: "Удалить", report: "Пожаловаться",
      delAsk: "Удалить этот комментарий навсегда?", delYes: "Да, удалить",
      up: "Плюс", down: "Минус", score: "Рейтинг: {n}",
      edited: "изменён", pendingTag: "На модерации", guestTag: "гость",
      pending: "Ваш комментарий ожидает проверки модератором.",
      posted: "Ваш комментарий опубликован.", saved: "Изменения сохранены.",
      deleted: "Ваш комментарий удалён.", removed: "Комментарий удалён.",
      reason: "Причина", reasons: { spam: "Спам", abuse: "Оскорбления или травля", off_topic: "Не по теме", other: "Другое" },
      note: "Комментарий для модераторов", send: "Отправить жалобу",
      reported: "Спасибо. Модераторы проверят комментарий.", already: "Вы уже пожаловались на этот комментарий.",
      needLogin: "Для этого нужно войти.", needBody: "Сначала напишите комментарий.",
      needGuest: "Укажите имя и адрес почты или войдите.",
      loggedIn: "Вы вошли как {name}.", loggedOut: "Вы вышли.",
      account: "Управление аккаунтом", accountHint: "ваши комментарии во всех блогах, привязанные входы, ваши данные (в новой вкладке)",
      loginFailed: "Не удалось войти: {msg}", blocked: "Окно входа заблокировано. Разрешите всплывающие окна для этой страницы и попробуйте снова.",
      session: "Сеанс завершён. Войдите снова; ваш текст сохранён.",
      network: "Сервер комментариев недоступен. Проверьте подключение и попробуйте снова.",
      rate: "Вы комментируете слишком часто. Попробуйте снова {when}.",
      banned: "Вы не можете комментировать на этом сайте.",
      duplicate: "Вы уже отправили этот комментарий.",
      rejected: "Комментарий не принят: {msg}",
      locked: "Комментарии к этой странице закрыты.", closed: "Комментарии закрыты.",
      unavailable: "Сервис комментариев перегружен. Попробуйте чуть позже.",
      fields: "Проверьте поля:", fieldBody: "Комментарий",
      newComment: "Новый комментарий от {name}.",
      powered: "Комментарии: Colloquy"
    }
  };
  var PROVIDERS = { wordpress: "WordPress.com", twitter: "X (Twitter)", facebook: "Facebook", google: "Google", dev: "Demo login" };
  var ACCOUNTS = { dev: "demo" };

  function providerName(p, account) {
    if (account && ACCOUNTS[p]) return ACCOUNTS[p];
    if (PROVIDERS[p]) return PROVIDERS[p];
    var n = String(p || "").replace(/^oidc-/, "");
    return n.charAt(0).toUpperCase() + n.slice(1);
  }

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

  /* ---------- one widget ---------- */
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

  /* ---------- comments ---------- */
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
    var sel = h("select", { id: id + "r" }, Object.keys(STR.en.reasons).map(function (k) { return h("option", { value: k, text: (s.s.reasons || STR.en.reasons)[k] }); }));
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

  /* ---------- the form: new comment, reply or edit ---------- */
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

  /* ---------- live updates ---------- */
  W.live = function () {
    var self = this;
    if (!window.EventSource) return;
    var wait = 2000;
    var connect = function () {
      var es = new EventSource(API + self.path("/events?uri=" + enc(self.uri)));
      var dropped = false;
      es.addEventListener("open", function () { wait = 2000; if (dropped) self.merge(); dropped = false; });
      es.addEventListener("comment", function (e) {
        var c;
        try { c = JSON.parse(e.data); } catch (x) { return; }
        if (!c || !c.id) return;
        var n = self.nodes.get(c.id);
        if (n) {
          var was = n.c.status;
          self.update(n, c);
          if (was === "pending" || was === "spam") { n.reasons = null; self.draw(n); self.setCount(self.count + 1); }
        } else if (self.insert(c, self.sort === "newest" && !c.parent_id)) {
          self.setCount(self.count + 1);
          if (c.author) self.say(self.t("newComment", { name: c.author.name }));
        }
      });
      es.addEventListener("deleted", function (e) {
        var id;
        try { id = JSON.parse(e.data).id; } catch (x) { return; }
        var n = self.nodes.get(id);
        // Leaving the public view (e.g. held for moderation) is not news for its own author.
        if (n && (n.c.status === "pending" || n.c.status === "spam")) return;
        self.remove(id);
      });
      es.addEventListener("error", function () {
        dropped = true;
        // The browser reconnects by itself unless the server refused; then we retry, slower.
        if (es.readyState === 2) {
          setTimeout(connect, wait);
          wait = Math.min(wait * 2, 60000);
        }
      });
    };
    connect();
  };

  /* The markdown of comments written here, so an edit starts from the author's own text. */
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
  var SRC_KEY = "colloquy:src:" + API_ORIGIN;
  function sources() { try { return JSON.parse(store.get(SRC_KEY) || "{}") || {}; } catch (e) { return {}; } }
  function remember(id, body) {
    var all = sources();
    all[id] = body;
    var ids = Object.keys(all);
    if (ids.length > 50) delete all[ids[0]];
    store.set(SRC_KEY, JSON.stringify(all));
  }
  function forget(id) { var all = sources(); delete all[id]; store.set(SRC_KEY, JSON.stringify(all)); }
  /* Otherwise: plain text back from the sanitized HTML (parsed inert, never inserted). */
  function sourceOf(c) {
    var known = sources()[c.id];
    if (typeof known === "string") return known;
    var doc = new DOMParser().parseFromString(c.html || "", "text/html");
    var out = [];
    var walk = function (node) {
      var t = "";
      node.childNodes.forEach(function (k) {
        if (k.nodeType === 3) { t += k.nodeValue; return; }
        if (k.nodeType !== 1) return;
        var tag = k.tagName.toLowerCase(), inner = walk(k);
        if (tag === "br") t += "\n";
        else if (tag === "a") t += "[" + inner + "](" + (k.getAttribute("href") || "") + ")";
        else if (tag === "strong" || tag === "b") t += "**" + inner + "**";
        else if (tag === "em" || tag === "i") t += "*" + inner + "*";
        else if (tag === "code") t += "`" + inner + "`";
        else if (tag === "li") t += "- " + inner.trim() + "\n";
        else if (tag === "blockquote") t += inner.trim().split("\n").map(function (l) { return "> " + l; }).join("\n") + "\n\n";
        else if (/^(p|div|ul|ol|pre|h[1-6])$/.test(tag)) t += inner.trim() + "\n\n";
        else t += inner;
      });
      return t;
    };
    out.push(walk(doc.body));
    return out.join("").replace(/\n{3,}/g, "\n\n").trim();
  }

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

  /* ---------- counts for [data-colloquy-count] anywhere on the page ---------- */
  var countEls = [];
  function fillCounts(site, uri, n) {
    countEls.forEach(function (x) {
      if (x.site === site && x.uri === uri) x.el.textContent = x.w.t("count", { n: n });
    });
  }
  function loadCounts(firstWidget) {
    var groups = {};
    document.querySelectorAll("[data-colloquy-count]").forEach(function (el) {
      var site = el.getAttribute("data-colloquy-site") || SCRIPT_SITE || firstWidget && firstWidget.site;
      var uri = el.getAttribute("data-colloquy-count");
      if (!site || !uri) return;
      countEls.push({ el: el, site: site, uri: uri, w: firstWidget || { t: Widget.prototype.t.bind(fakeT()) } });
      (groups[site] = groups[site] || []).indexOf(uri) < 0 && groups[site].push(uri);
    });
    Object.keys(groups).forEach(function (site) {
      for (var i = 0; i < groups[site].length; i += 100) {
        var chunk = groups[site].slice(i, i + 100);
        api("GET", "/api/v1/sites/" + enc(site) + "/counts?" + chunk.map(function (u) { return "uri=" + enc(u); }).join("&"), undefined, { anonymous: true })
          .then(function (r) {
            if (!r.ok || !r.data) return;
            Object.keys(r.data).forEach(function (u) { if (typeof r.data[u] === "number") fillCounts(site, u, r.data[u]); });
          });
      }
    });
  }
  function fakeT() {
    var lang = (document.documentElement.lang || "en").slice(0, 2);
    lang = STR[lang] ? lang : "en";
    return { s: STR[lang], plural: new Intl.PluralRules(lang) };
  }

  /* ---------- start ---------- */
  function boot() {
    var hosts = document.querySelectorAll("#colloquy-thread, [data-colloquy-thread]");
    var first = null;
    hosts.forEach(function (host) {
      if (host.shadowRoot) return;
      var w = new Widget(host);
      instances.push(w);
      first = first || w;
    });
    loadCounts(first);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
