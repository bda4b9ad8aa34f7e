/* collapse.js: the collapsed graph (supernodes as single nodes, links summed), as report/subgraph.py builds
 * it: loose pinned nodes, the target logit, the prompt tokens that feed any of them, then one node per
 * supernode. Python ships this view for the file as it is (head.views.supernodes.collapsed); the viewer
 * computes it here only after the user edits supernodes or pins, and tests/test_report_views.py holds the
 * two to the same result. Pure; page and Node. */
(function (AG) {
  'use strict';
  var core = AG.core || require('./core.js');
  var labels = AG.labels || require('./labels.js');

  /** The most probable logit node (NaN counts as -1, ties: the first), or -1. */
  function targetLogit(g) {
    var best = -1, bp = -Infinity;
    for (var i = 0; i < g.n; i++) {
      if (g.kind[i] !== core.KIND_LOGIT) continue;
      var p = isNaN(g.prob[i]) ? -1 : g.prob[i];
      if (p > bp) { bp = p; best = i; }
    }
    return best;
  }

  /** The collapsed view of `g` with supernodes `g.supernodes` and the pinned nodes `pinned` (an iterable of
   *  indices, in pin order): {ids, names, colors, members (ids), rows (indices), supernode (index or null),
   *  links: [[source, target, summed weight]]}, node for node what report/views.py collapsed_view ships. */
  function compute(g, pinned) {
    var owner = new Int32Array(g.n).fill(-1), groups = [], singles = [], inside = new Uint8Array(g.n), i, e;
    g.supernodes.forEach(function (s, k) {
      var rows = [];
      s.members.forEach(function (j) { if (!inside[j]) { inside[j] = 1; rows.push(j); } });
      if (rows.length) groups.push({ k: k, s: s, rows: rows.sort(function (a, b) { return a - b; }) });
    });
    function single(j) { if (!inside[j]) { inside[j] = 1; singles.push(j); } }
    Array.from(pinned).forEach(single);
    if (!groups.length && !singles.length) return null;
    var t = targetLogit(g);
    if (t >= 0) single(t);
    var tokens = [];
    for (e = 0; e < g.m; e++) {
      var s0 = g.src[e];
      if (g.kind[s0] === core.KIND_EMB && !inside[s0] && inside[g.tgt[e]] && g.w[e] !== 0 && tokens.indexOf(s0) < 0) tokens.push(s0);
    }
    tokens.sort(function (a, b) { return g.pos[a] - g.pos[b] || a - b; }).forEach(single);
    var v = { ids: [], names: [], colors: [], members: [], rows: [], supernode: [], links: [] };
    singles.forEach(function (j, k) {
      owner[j] = k;
      v.ids.push(g.ids[j]); v.names.push(labels.displayLabel(g, j)); v.colors.push(labels.nodeColor(g, j));
      v.members.push([g.ids[j]]); v.rows.push([j]); v.supernode.push(null);
    });
    groups.forEach(function (gr, q) {
      gr.rows.forEach(function (j) { owner[j] = singles.length + q; });
      v.ids.push('supernode:' + q); v.names.push(gr.s.name); v.colors.push(gr.s.color);
      v.members.push(gr.rows.map(function (j) { return g.ids[j]; })); v.rows.push(gr.rows); v.supernode.push(gr.k);
    });
    var n = v.ids.length, sums = new Map();
    for (e = 0; e < g.m; e++) {
      var a = owner[g.src[e]], b = owner[g.tgt[e]];
      if (a < 0 || b < 0 || a === b) continue;
      var key = b * n + a;
      sums.set(key, (sums.get(key) || 0) + g.w[e]);
    }
    Array.from(sums.keys()).sort(function (x, y) { return x - y; }).forEach(function (key) {
      var w = sums.get(key);
      if (w !== 0) v.links.push([key % n, Math.floor(key / n), w]);
    });
    return v;
  }

  /** The shipped view (head.views) while supernodes and pins are as in the file, else `compute`. */
  function view(g, pinned) {
    var shipped = g.views && g.views.supernodes ? g.views.supernodes.collapsed : undefined;
    var pins = Array.from(pinned).map(function (j) { return g.ids[j]; }).join('\n');
    if (shipped !== undefined && !g.supernodesEdited && pins === g.filePins) {
      if (!shipped) return null;
      var rows = shipped.members.map(function (ids) { return ids.map(function (id) { return g.index.get(id); }); });
      return Object.assign({}, shipped, { rows: rows, names: shipped.names.map(function (name, k) {  // labels may be edited
        return shipped.supernode[k] == null ? labels.displayLabel(g, rows[k][0]) : name;
      }) });
    }
    return compute(g, pinned);
  }

  var collapse = { targetLogit: targetLogit, compute: compute, view: view };
  AG.collapse = collapse;
  if (typeof module !== 'undefined' && module.exports) module.exports = collapse;
})(typeof AG !== 'undefined' ? AG : {});
