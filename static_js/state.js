/* state.js: the viewer's core state, its URL-hash form, and the slider <-> value mappings. Pure; page and Node.
 *
 * Core state: thresholds and display settings, the search query, selection, hover, pinned nodes and the
 * zoom. Panels keep their own state and hash keys (see registry.js); they are not in here.
 */
(function (AG) {
  'use strict';

  function clamp(v, lo, hi) { return Math.min(Math.max(v, lo), hi); }

  /** The state a freshly opened graph starts in (before the URL hash is read). */
  function defaults(g) {
    var t = g.thresholds;  // report/semantics.py Thresholds (camelCase)
    var st = {
      displayInfluenceThreshold: clamp(t.displayInfluenceThreshold, 0, 1), minWeight: Math.max(t.minWeight, 0),
      nodeSize: 4, labelDensity: clamp(t.labelDensity, 0, 1),
      showErrors: g.errors <= t.errorsHiddenAbove, query: '', selected: -1, hover: -1, pinned: new Set(),
      k: 1, tx: 0, ty: 0
    };
    (Array.isArray(g.qParams.pinnedIds) ? g.qParams.pinnedIds : []).forEach(function (id) { var j = g.index.get(String(id)); if (j != null) st.pinned.add(j); });
    var clicked = g.qParams.clickedId;
    if (clicked && g.index.has(String(clicked))) st.selected = g.index.get(String(clicked));
    return st;
  }

  /** Node indices of a comma-separated list of URI-encoded ids (unknown ids dropped). */
  function idList(g, s) {
    var out = [];
    (s || '').split(',').forEach(function (x) {
      if (!x) return;
      var j; try { j = g.index.get(decodeURIComponent(x)); } catch (e) { j = null; }
      if (j != null) out.push(j);
    });
    return out;
  }
  function idString(g, indices) {
    return Array.from(indices).map(function (i) { return encodeURIComponent(g.ids[i]); }).join(',');
  }

  /** The URL hash's parameters (`#a=1&b=2` or `a=1&b=2`). */
  function params(hash) { return new URLSearchParams(String(hash || '').replace(/^#/, '')); }

  /** Apply the core keys of hash parameters `p` to `st` (missing or malformed keys leave it as it is). */
  function applyParams(p, g, st) {
    function number(key, lo, hi) { var v = parseFloat(p.get(key)); return isFinite(v) ? clamp(v, lo, hi) : null; }
    if (p.has('sel')) { var s = idList(g, p.get('sel')); st.selected = s.length ? s[0] : -1; }
    if (p.has('pin')) st.pinned = new Set(idList(g, p.get('pin')));
    var v;
    // `nt`: the display influence threshold (the hash key older links carry)
    if ((v = number('nt', 0, 1)) != null) st.displayInfluenceThreshold = v;
    if ((v = number('ew', 0, Infinity)) != null) st.minWeight = v;
    if ((v = number('ns', 1, 14)) != null) st.nodeSize = v;
    if ((v = number('ld', 0, 1)) != null) st.labelDensity = v;
    if (p.has('err')) st.showErrors = p.get('err') === '1';
    if (p.has('q')) st.query = p.get('q');
    if (p.has('z')) {
      var z = p.get('z').split(',').map(parseFloat);
      if (z.length === 3 && z.every(isFinite) && z[0] > 0) { st.k = z[0]; st.tx = z[1]; st.ty = z[2]; }
    }
    return st;
  }

  /** The core state as hash parameters (panels append theirs). */
  function toParams(g, st) {
    var p = new URLSearchParams();
    if (st.selected >= 0) p.set('sel', encodeURIComponent(g.ids[st.selected]));
    if (st.pinned.size) p.set('pin', idString(g, st.pinned));
    p.set('nt', String(st.displayInfluenceThreshold));
    p.set('ew', String(+st.minWeight.toPrecision(4)));
    p.set('ns', String(st.nodeSize));
    p.set('ld', String(st.labelDensity));
    p.set('err', st.showErrors ? '1' : '0');
    if (st.query) p.set('q', st.query);
    if (st.k !== 1 || st.tx || st.ty) p.set('z', [st.k.toPrecision(4), st.tx.toFixed(1), st.ty.toFixed(1)].join(','));
    return p;
  }

  /** The min-|edge| slider (0..1000) is logarithmic over four decades below the strongest link. */
  function weightToSlider(w, maxW) {
    if (!(w > 0)) return 0;
    return Math.max(1, Math.min(1000, Math.round(1000 * (1 + Math.log10(w / maxW) / 4))));
  }
  function sliderToWeight(v, maxW) { return v <= 0 ? 0 : maxW * Math.pow(10, -4 * (1 - v / 1000)); }

  var state = { defaults: defaults, idList: idList, idString: idString, params: params, applyParams: applyParams,
    toParams: toParams, weightToSlider: weightToSlider, sliderToWeight: sliderToWeight };
  AG.state = state;
  if (typeof module !== 'undefined' && module.exports) module.exports = state;
})(typeof AG !== 'undefined' ? AG : {});
