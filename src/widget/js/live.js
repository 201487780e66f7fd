/* live.js: live updates over the thread's event stream (new, approved and deleted comments). */

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
