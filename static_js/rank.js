/* rank.js: node importance order (which labels get placed first) and search. Pure; page and Node. */
(function (AG) {
  'use strict';
  var labels = AG.labels || require('./labels.js');

  /** Importance of node `i` as a sort key, smaller first: Python's rank (report/semantics.py node_rank). */
  function key(g, i) { return g.rank[i]; }
  /** `nodes` (an array of indices) sorted in place, most important first; ties by index. */
  function byImportance(g, nodes) {
    return nodes.sort(function (a, b) { return key(g, a) - key(g, b) || a - b; });
  }
  /** Indices of `visible` nodes whose id or display label contains `query` (case-insensitive). */
  function search(g, visible, query) {
    var q = String(query).trim().toLowerCase(), hits = [];
    if (q) for (var i = 0; i < g.n; i++) {
      if (visible && !visible[i]) continue;
      if (String(g.ids[i]).toLowerCase().indexOf(q) >= 0 || labels.displayLabel(g, i).toLowerCase().indexOf(q) >= 0) hits.push(i);
    }
    return hits;
  }
  var rank = { key: key, byImportance: byImportance, search: search };
  AG.rank = rank;
  if (typeof module !== 'undefined' && module.exports) module.exports = rank;
})(typeof AG !== 'undefined' ? AG : {});
