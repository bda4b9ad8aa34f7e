/* labels.js: what a node is called and coloured. Pure; loads in the page and in Node.
 * The display labels and colours are Python's (head.semantics from report/semantics.py, so HTML, SVG and PDF
 * agree); `fallbackLabel` names a node whose label the user cleared, as Python names an unlabelled one.
 */
(function (AG) {
  'use strict';
  var core = AG.core || require('./core.js');
  var format = AG.format || require('./format.js');

  // as report/text.py clean_text: XML-forbidden characters -> U+FFFD, line breaks and tabs -> spaces
  function cleanText(s) {
    return format.xmlSafe(String(s).replace(/\r\n|[\n\r\t]/g, ' '));
  }
  function tokenText(t) {  // report/text.py token_text
    var shown = String(t).replace(/\n/g, '\u21b5').replace(/\t/g, '\u21e5');
    return shown.trim() || (shown ? '\u2423'.repeat(Math.min(shown.length, 3)) : '\u2205');
  }
  function probText(p) {  // Python's f"{p:.2g}" / f"{p:.1e}"
    if (p >= 0.01 || p === 0) return String(Number(p.toPrecision(2)));
    return p.toExponential(1).replace(/e([+-])(\d)$/, 'e$10$2');
  }
  /** What report/semantics.py display_label calls an unlabelled node (for a label the user cleared). */
  function fallbackLabel(g, i) {
    var k = g.kind[i], pos = g.pos[i];
    if (k === core.KIND_FEAT) return 'L' + g.layer[i] + '/' + g.feature[i];
    if (k === core.KIND_ERR) return 'Error L' + g.layer[i] + ' @' + pos;
    if (k === core.KIND_EMB) return pos >= 0 && pos < g.tokens.length ? cleanText(tokenText(g.tokens[pos])) : 'Emb @' + pos;
    var tok = g.logitToken[i];
    if (!tok) return cleanText(g.ids[i]);
    var p = g.prob[i], shown = cleanText(String(tok).replace(/\r\n|\n/g, '\u21b5').replace(/\t/g, '\u21e5'));
    return 'Output "' + shown + '"' + (isFinite(p) ? ' (p=' + probText(p) + ')' : '');
  }
  /** The text shown for node `i` (Python's display label, or the user's edit). */
  function displayLabel(g, i) { return g.display[i]; }
  /** The label figures write (a logit: its token alone; report/semantics.py short_label). */
  function shortLabel(g, i) {
    return g.short && Object.prototype.hasOwnProperty.call(g.short, i) && g.labels[i] === g.origLabels[i] ? g.short[i] : displayLabel(g, i);
  }
  /** Set node `i`'s label (the user edited it); the display label follows. */
  function setLabel(g, i, text) {
    text = String(text);
    if (g.labels[i] === text) return false;
    g.labels[i] = text;
    var t = clip(text.trim(), g.limits.label);
    g.display[i] = text === g.origLabels[i] ? g.origDisplay[i] : t ? cleanText(t) : fallbackLabel(g, i);
    return true;
  }
  function layerName(g, i) {
    var k = g.kind[i];
    return k === core.KIND_EMB ? 'Emb' : k === core.KIND_LOGIT ? 'Logits' : 'L' + g.layer[i];
  }
  /** Fill colour of node `i`. */
  function nodeColor(g, i) { return g.color[i]; }
  /** `s` cut to `limit` characters (attrgraph_cli/clip.py clip: the first limit - 1 and an ellipsis). */
  function clip(s, limit) {
    s = String(s);
    return limit > 0 && s.length > limit ? s.slice(0, limit - 1) + '\u2026' : s;
  }
  /** A link a reader clicks (never fetched): `url` when it is http(s), else null. */
  function httpUrl(url) { return typeof url === 'string' && /^https?:\/\/[^\s]+$/i.test(url) ? url : null; }
  /** Node `i`'s feature page on Neuronpedia (head.views.links, report/links.py: prefix + `{layer}-{source
   *  set}/{index}`, as neuronpedia/ids.py feature_page_url writes it), or null. */
  function featureUrl(g, i) {
    var L = g.views.links, layer = g.layer[i], index = g.feature[i];
    if (!L || !L.featurePrefix || !L.sourceSet || g.kind[i] !== core.KIND_FEAT) return null;
    if (!(layer >= 0 && index >= 0 && index === Math.floor(index) && isFinite(index))) return null;
    return httpUrl(L.featurePrefix + layer + '-' + L.sourceSet + '/' + index);
  }
  /** The `attrgraph.features` entry of node `i` (its key from head.semantics.featureKey), or null. */
  function entryOf(g, i) {
    var ext = g.extra.attrgraph && g.extra.attrgraph.features, key = g.featureKey[i];
    if (key == null || !ext || typeof ext !== 'object' || !Object.prototype.hasOwnProperty.call(ext, key)) return null;
    return ext[key] && typeof ext[key] === 'object' ? ext[key] : null;
  }

  var labels = { cleanText: cleanText, tokenText: tokenText, probText: probText, fallbackLabel: fallbackLabel, displayLabel: displayLabel, setLabel: setLabel, layerName: layerName,
    nodeColor: nodeColor, clip: clip, entryOf: entryOf, shortLabel: shortLabel, httpUrl: httpUrl, featureUrl: featureUrl };
  AG.labels = labels;
  if (typeof module !== 'undefined' && module.exports) module.exports = labels;
})(typeof AG !== 'undefined' ? AG : {});
