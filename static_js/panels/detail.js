/* panels/detail.js: the selected node: editable label, fields, strongest inputs and outputs, feature details. */
(function (AG) {
  'use strict';
  var core = AG.core, labels = AG.labels, h = AG.dom.h, fmt = AG.format.fmt, showToken = AG.format.showToken;

  /** Feature details (Neuronpedia's feature JSON shape): density, top/bottom logits, example quantiles. */
  function featureDetails(d, density) {
    var wrap = h('div', { id: 'ag-feature-details' }, h('h3', { text: 'Feature details', style: 'margin-top:10px' }));
    if (typeof density === 'number') wrap.append(h('div', { cls: 'ag-sub', text: 'density ' + fmt(density, 5) }));
    [['top_logits', 'Top logits', 'top'], ['bottom_logits', 'Bottom logits', 'bottom']].forEach(function (spec) {
      var arr = d[spec[0]];
      if (!Array.isArray(arr) || !arr.length) return;
      var div = h('div', { cls: 'ag-logits ' + spec[2] });
      arr.slice(0, 12).forEach(function (t) { div.append(h('span', { text: showToken(t) })); });
      wrap.append(h('div', { cls: 'ag-sub', text: spec[1] }), div);
    });
    (Array.isArray(d.examples_quantiles) ? d.examples_quantiles : []).slice(0, 3).forEach(function (qtl) {
      var ex = qtl && Array.isArray(qtl.examples) ? qtl.examples : [];
      if (!ex.length) return;
      wrap.append(h('div', { cls: 'ag-sub', text: String(qtl.quantile_name || 'examples') }));
      ex.slice(0, 5).forEach(function (x) {
        var toks = Array.isArray(x.tokens) ? x.tokens : [], acts = Array.isArray(x.tokens_acts_list) ? x.tokens_acts_list : [];
        var mx = Math.max.apply(null, acts.map(function (a) { return +a || 0; }).concat([1e-9]));
        var line = h('div', { cls: 'ag-example' });
        toks.forEach(function (t, k) {
          var a = Math.max(0, +acts[k] || 0) / mx, span = h('span', { text: showToken(t) });
          if (a > 0) { span.style.background = 'rgba(249,115,22,' + (0.12 + 0.75 * a).toFixed(2) + ')'; span.title = fmt(+acts[k]); }
          line.append(span);
        });
        wrap.append(line);
      });
    });
    return wrap;
  }

  /** Where the label came from (source, explainer, score), then the details. */
  function featureSection(g, i, entry) {
    var d = entry.details && typeof entry.details === 'object' ? entry.details : {};
    var wrap = featureDetails(d, g.density[i]);
    var prov = [entry.source, entry.explainer, typeof entry.score === 'number' ? 'score ' + fmt(entry.score, 2) : null]
      .filter(function (v) { return v != null && v !== ''; }).map(String).join(' · ');
    if (prov) wrap.insertBefore(h('div', { cls: 'ag-sub', id: 'ag-label-source', text: 'label: ' + prov }), wrap.children[1] || null);
    if (g.dense[i]) wrap.insertBefore(h('div', { cls: 'ag-sub', text: 'dense feature' }), wrap.children[1] || null);
    return wrap;
  }

  AG.registerPanel({
    name: 'detail',
    title: 'Node',
    order: 10,
    mount: function () {},
    update: function (st, ctx, changed) {
      if (!(changed.has('all') || changed.has('selection') || changed.has('labels') || changed.has('pins'))) return;
      var g = ctx.g, i = st.selected, box = this.el;
      box.textContent = '';
      box.append(h('h3', { text: this.title }));
      if (i < 0) { box.append(h('div', { cls: 'ag-empty', text: 'Click a node to see it here; ctrl/cmd-click pins it.' })); return; }
      var input = h('input', { cls: 'ag-label-input', id: 'ag-label-edit', type: 'text', 'aria-label': 'Label', placeholder: 'Add a label…' });
      input.value = g.labels[i];
      input.addEventListener('change', function () { ctx.setLabel(i, input.value); });
      input.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') { ctx.setLabel(i, input.value); input.blur(); } });
      var shown = h('div', { cls: 'ag-node-label', id: 'ag-detail-label', text: labels.displayLabel(g, i) });
      var dl = h('dl', { cls: 'ag-kv' }), tok = g.tokens[g.pos[i]];
      var rows = [['id', g.ids[i]], ['type', g.featureType[i] || core.KIND_NAME[g.kind[i]]], ['layer', labels.layerName(g, i)],
        ['position', g.pos[i] + (tok != null ? '  "' + showToken(tok) + '"' : '')],
        ['activation', fmt(g.act[i])], ['influence', fmt(g.infl[i])]];
      if (g.kind[i] === core.KIND_LOGIT) rows.push(['probability', fmt(g.prob[i])]);
      if (g.kind[i] === core.KIND_FEAT && g.feature[i] >= 0) rows.push(['feature', 'L' + g.layer[i] + ' #' + g.feature[i]]);
      rows.forEach(function (r) { dl.append(h('dt', { text: r[0] }), h('dd', { text: String(r[1]) })); });
      var pin = h('button', { cls: 'ag-btn', id: 'ag-pin', type: 'button', onclick: function () { ctx.togglePin(i); } },
        st.pinned.has(i) ? 'Unpin' : 'Pin');
      box.append(input, shown, dl, h('div', { style: 'margin:6px 0' }, pin));
      var page = labels.featureUrl(g, i);
      if (page) box.append(h('div', { cls: 'ag-sub' }, h('a', { id: 'ag-np-feature', href: page, target: '_blank', rel: 'noopener noreferrer',
        text: 'Feature page on Neuronpedia' })));
      function edgeList(title, adj, other) {
        var ul = h('ul', { cls: 'ag-edges' }), count = 0;
        for (var p = adj.start[i]; p < adj.start[i + 1] && count < 10; p++, count++) {
          var e = adj.list[p], j = other[e], w = g.w[e];
          (function (j) {
            ul.append(h('li', { 'data-node': g.ids[j], title: g.ids[j], onclick: function () { ctx.select(j); } },
              h('span', { cls: 'w ' + (w >= 0 ? 'pos' : 'neg'), text: (w >= 0 ? '+' : '') + fmt(w) }),
              h('span', { cls: 'l', text: labels.displayLabel(g, j) + ' (' + labels.layerName(g, j) + ')' })));
          })(j);
        }
        var total = adj.start[i + 1] - adj.start[i];
        box.append(h('div', { cls: 'ag-sub', text: title + ' (' + total + ')' }), count ? ul : h('div', { cls: 'ag-empty', text: 'none' }));
      }
      edgeList('Strongest inputs', g.inn, g.src);
      edgeList('Strongest outputs', g.out, g.tgt);
      var entry = labels.entryOf(g, i);
      if (entry) box.append(featureSection(g, i, entry));
    }
  });
})(AG);
