/* loader.js: the one script a report runs as it is. The viewer's code (static_js/min/, minified by esbuild
 * at build time) travels deflated in #attrgraph-code; this inflates it and runs it as an inline script,
 * which the page's Content-Security-Policy allows by its SHA-256 (report/html.py). Until the viewer's own
 * API replaces it (boot.js), window.attrgraph.ready waits for the code and then for the viewer. */
(function () {
  'use strict';
  var el = document.getElementById('attrgraph-code');
  var loaded = Promise.resolve().then(function () {
    if (typeof DecompressionStream === 'undefined') throw new Error('this browser lacks DecompressionStream');
    var bin = atob(el.textContent.trim()), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate-raw'))).text();
  }).then(function (code) {
    var s = document.createElement('script');
    s.textContent = code;
    document.body.appendChild(s);
  });
  loaded.catch(function (err) {
    var root = document.getElementById('attrgraph-root');
    if (root) root.textContent = 'attrgraph: could not load the viewer: ' + (err && err.message || err);
  });
  var waiting = { ready: loaded.then(function () { return window.attrgraph === waiting ? false : window.attrgraph.ready; }) };
  window.attrgraph = waiting;
})();
