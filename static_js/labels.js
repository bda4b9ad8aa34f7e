/* labels.js: what a node is called and coloured. Pure; loads in the page and in Node.
 * With a payload from report/semantics.py the display labels and colours are Python's (so HTML, SVG and PDF
 * agree); the fallbacks below only serve payloads without head.semantics.
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
  /** What report/semantics.py display_label calls an unlabelled node (the fallback for payloads without
   *  head.semantics and for a label the user cleared). */
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
  /** The text shown for node `i`: Python's display label, else its label, else the fallback. */
  function displayLabel(g, i) {
    if (g.display) return g.display[i];
    var l = String(g.labels[i] || '').trim();
    return l && g.kind[i] !== core.KIND_EMB ? cleanText(l) : fallbackLabel(g, i);
  }
  /** Set node `i`'s label (the user edited it); the display label follows. */
  function setLabel(g, i, text) {
    text = String(text);
    if (g.labels[i] === text) return false;
    g.labels[i] = text;
    if (g.display) {
      var t = text.trim();
      g.display[i] = text === g.origLabels[i] && g.origDisplay ? g.origDisplay[i] : t ? cleanText(t) : fallbackLabel(g, i);
    }
    return true;
  }
  function layerName(g, i) {
    var k = g.kind[i];
    return k === core.KIND_EMB ? 'Emb' : k === core.KIND_LOGIT ? 'Logits' : 'L' + g.layer[i];
  }
  /** Fill colour of node `i`. */
  function nodeColor(g, i) { return g.color ? g.color[i] : g.kindColor[g.kind[i]]; }

  var labels = { cleanText: cleanText, tokenText: tokenText, probText: probText, fallbackLabel: fallbackLabel, displayLabel: displayLabel, setLabel: setLabel, layerName: layerName,
    nodeColor: nodeColor };
  AG.labels = labels;
  if (typeof module !== 'undefined' && module.exports) module.exports = labels;
})(typeof AG !== 'undefined' ? AG : {});
