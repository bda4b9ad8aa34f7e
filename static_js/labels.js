/* labels.js: what a node is called and coloured. Pure; loads in the page and in Node.
 * With a payload from report/semantics.py the display labels and colours are Python's (so HTML, SVG and PDF
 * agree); the fallbacks below only serve payloads without head.semantics.
 */
(function (AG) {
  'use strict';
  var core = AG.core || require('./core.js');
  var format = AG.format || require('./format.js');

  /** The label computed from the node's own fields (the fallback when there is no label). */
  function fallbackLabel(g, i) {
    var k = g.kind[i];
    if (k === core.KIND_EMB) return g.tokens[g.pos[i]] != null ? format.showToken(g.tokens[g.pos[i]]) : 'Emb ' + g.ids[i];
    if (k === core.KIND_ERR) return 'Error L' + g.layer[i] + ' @' + g.pos[i];
    if (k === core.KIND_LOGIT && g.logitToken[i]) return 'Output "' + format.showToken(g.logitToken[i]) + '"';
    return String(g.ids[i]);
  }
  /** The text shown for node `i`: Python's display label, else its label, else the fallback. */
  function displayLabel(g, i) {
    if (g.display) return g.display[i];
    return g.labels[i] || fallbackLabel(g, i);
  }
  /** Set node `i`'s label (the user edited it); the display label follows. */
  function setLabel(g, i, text) {
    text = String(text);
    if (g.labels[i] === text) return false;
    g.labels[i] = text;
    if (g.display) g.display[i] = text || fallbackLabel(g, i);
    return true;
  }
  function layerName(g, i) {
    var k = g.kind[i];
    return k === core.KIND_EMB ? 'Emb' : k === core.KIND_LOGIT ? 'Logits' : 'L' + g.layer[i];
  }
  /** Fill colour of node `i`. */
  function nodeColor(g, i) { return g.color ? g.color[i] : g.kindColor[g.kind[i]]; }

  var labels = { fallbackLabel: fallbackLabel, displayLabel: displayLabel, setLabel: setLabel, layerName: layerName,
    nodeColor: nodeColor };
  AG.labels = labels;
  if (typeof module !== 'undefined' && module.exports) module.exports = labels;
})(typeof AG !== 'undefined' ? AG : {});
