/* source.js: the markdown behind a comment, so an edit starts from the author's own text. */

// The markdown of comments written here, kept in this browser (at most 50).
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
