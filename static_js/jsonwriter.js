/* jsonwriter.js: the graph as a Neuronpedia-compatible JSON document, as attrgraph's Python writer
 * (attrgraph_cli/io/neuronpedia_json.py graph_to_document) writes it, with the user's labels, pins and
 * supernodes. Pure; page and Node.
 */
(function (AG) {
  'use strict';
  var core = AG.core || require('./core.js');

  var own = Object.prototype.hasOwnProperty;
  function num(v) { return v == null || isNaN(v) ? null : v; }
  /** o[key] = value as an own, enumerable property, whatever the key (`__proto__` too, which plain
   *  assignment would turn into a prototype change and JSON.stringify would then drop). */
  function put(o, key, value) {
    Object.defineProperty(o, key, { value: value, enumerable: true, writable: true, configurable: true });
  }
  /** A shallow copy of `src`'s own keys (Object.assign would swallow a `__proto__` key the same way). */
  function copyOwn(src) {
    var out = {};
    for (var key in src) if (own.call(src, key)) put(out, key, src[key]);
    return out;
  }
  function cantor(x, y) { return (x + y) * (x + y + 1) / 2 + y; }

  /** One node as the Python writer writes it, then the file's own extra keys; the (edited) label wins. */
  function nodeObject(g, i) {
    var k = g.kind[i], layer = g.layer[i], pos = g.pos[i], feat = g.feature[i], feature, js;
    if (k === core.KIND_FEAT) {
      var sv = g.meta.schema_version === undefined ? 1 : g.meta.schema_version;
      feature = feat >= 0 ? (Number.isInteger(sv) && sv >= 1 ? cantor(layer, feat) : layer * 100000 + feat) : null;
      js = layer + '_' + feat + '-0';
    } else if (k === core.KIND_ERR) { feature = -1; js = layer + '_' + pos + '-0'; }
    else if (k === core.KIND_EMB) { feature = pos; js = 'E_' + feat + '-' + pos; }
    else { feature = feat; js = 'L_' + feat + '-' + pos; }
    var o = {
      node_id: g.ids[i], feature: feature, layer: k === core.KIND_EMB ? 'E' : String(layer), ctx_idx: pos,
      feature_type: g.featureType[i] || core.KIND_NAME[k],
      token_prob: k === core.KIND_LOGIT && !isNaN(g.prob[i]) ? g.prob[i] : 0,
      is_target_logit: i === g.targetLogit, run_idx: 0, reverse_ctx_idx: 0, jsNodeId: js, clerp: '',
      influence: num(g.infl[i]), activation: num(g.act[i])
    };
    var ex = g.nodeExtra[i];
    if (ex) for (var key in ex) if (own.call(ex, key)) put(o, key, ex[key]);
    o.clerp = g.labels[i];
    return o;
  }

  /** The document as a list of string chunks (cheap for 1M links); `view` = {pinned: Set, selected: int}. */
  function documentChunks(g, view) {
    var qp = copyOwn(g.qParams);
    qp.pinnedIds = Array.from(view.pinned || []).map(function (i) { return g.ids[i]; });
    qp.supernodes = g.supernodes.map(function (s) { return [s.name].concat(s.ids); });
    qp.clickedId = view.selected >= 0 ? g.ids[view.selected] : '';
    if (qp.linkType == null) qp.linkType = 'both';
    if (qp.sg_pos == null) qp.sg_pos = '';
    var meta = copyOwn(g.meta);
    var chunks = ['{"metadata":', JSON.stringify(meta), ',"qParams":', JSON.stringify(qp), ',"nodes":['];
    for (var i = 0; i < g.n; i++) chunks.push((i ? ',' : '') + JSON.stringify(nodeObject(g, i)));
    chunks.push('],"links":[');
    var part = [], first = true;
    for (var e = 0; e < g.m; e++) {
      var lo = { source: g.ids[g.src[e]], target: g.ids[g.tgt[e]], weight: g.w[e] };
      var lx = g.linkExtra[e];
      // own-property checks: `key in lo` is also true for inherited names (constructor, toString, valueOf)
      if (lx) for (var key in lx) if (own.call(lx, key) && !own.call(lo, key)) put(lo, key, lx[key]);
      part.push(JSON.stringify(lo));
      if (part.length === 20000) { chunks.push((first ? '' : ',') + part.join(',')); part = []; first = false; }
    }
    if (part.length) chunks.push((first ? '' : ',') + part.join(','));
    chunks.push(']');
    for (var k in g.extra) {
      if (!own.call(g.extra, k)) continue;
      if (k === 'metadata' || k === 'qParams' || k === 'nodes' || k === 'links') continue;
      chunks.push(',' + JSON.stringify(k) + ':' + JSON.stringify(g.extra[k]));
    }
    chunks.push('}');
    return chunks;
  }

  var jsonwriter = { nodeObject: nodeObject, documentChunks: documentChunks };
  AG.jsonwriter = jsonwriter;
  if (typeof module !== 'undefined' && module.exports) module.exports = jsonwriter;
})(typeof AG !== 'undefined' ? AG : {});
