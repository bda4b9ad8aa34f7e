/* format.js: number and text formatting, XML escaping. Pure; loads in the page and in Node. */
(function (AG) {
  'use strict';
  /** A number with `digits` decimals, scientific when tiny or huge, an em dash when missing. */
  function fmt(v, digits) {
    if (v == null || isNaN(v)) return '—';
    var a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
    return v.toFixed(digits == null ? 3 : digits);
  }
  // characters XML 1.0 forbids (C0 controls but tab/newline/CR, DEL, U+FFFE/U+FFFF, lone surrogates): each
  // becomes U+FFFD, as in the CLI's SVG (report/svg.py clean_text); the `u` flag makes [\uD800-\uDFFF] match
  // only surrogates that are not part of a pair
  var XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uFFFE\uFFFF\uD800-\uDFFF]/gu;
  /** `s` with every character XML 1.0 cannot hold replaced by U+FFFD. */
  function xmlSafe(s) { return String(s).replace(XML_INVALID, '\uFFFD'); }
  /** Text for an XML text node or attribute value: invalid characters dropped, markup characters escaped. */
  function xmlEscape(s) {
    return xmlSafe(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function showToken(t) { return String(t).replace(/\n/g, '↵').replace(/\t/g, '⇥').replace(/\r/g, ''); }
  function truncate(s, n) { s = String(s); return s.length > n ? s.slice(0, n - 1) + '…' : s; }
  var format = { fmt: fmt, xmlSafe: xmlSafe, xmlEscape: xmlEscape, showToken: showToken, truncate: truncate };
  AG.format = format;
  if (typeof module !== 'undefined' && module.exports) module.exports = format;
})(typeof AG !== 'undefined' ? AG : {});
