/* boot.js: runs last, once every part is defined: a widget for each thread host, then counts. */

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
