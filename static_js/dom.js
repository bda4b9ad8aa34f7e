/* dom.js: the two DOM helpers every panel uses. Page only. */
(function (AG) {
  'use strict';
  /** An element with attributes (text: textContent, cls: className, style: cssText, on*: listener) and
   *  children (strings become text nodes: graph strings never become markup). */
  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === 'text') el.textContent = attrs[k];
      else if (k === 'cls') el.className = attrs[k];
      else if (k === 'style') el.style.cssText = attrs[k];  // CSSOM: allowed by the page's CSP
      else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), attrs[k]);
      else el.setAttribute(k, attrs[k]);
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c == null) continue;
      el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return el;
  }
  /** Save `blob` as file `name` (an object URL, revoked a second later). */
  function download(name, blob) {
    var a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }
  AG.dom = { h: h, download: download };
})(AG);
