/* counts.js: comment counts for [data-colloquy-count] elements anywhere on the page, fetched in
 * batches per site and kept in step with the widget showing the same thread. */

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
