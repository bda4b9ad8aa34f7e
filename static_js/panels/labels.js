/* panels/labels.js: autointerp's labels, as report/views.py's label summary has them (the PDF's Labels
 * section draws the same view): where they came from (per source), their mean quality score, the labelled
 * features in the report's ranking (click to select), the selected feature's activation histogram as
 * inline SVG, and a toggle that hides dense features (density above --max-density) from the graph. The label
 * text, its source/score, examples, logits and density of the selected node are in the Node panel. */
(function (AG) {
  'use strict';
  var h = AG.dom.h, fmt = AG.format.fmt, labels = AG.labels, SVG = 'http://www.w3.org/2000/svg';

  function svgEl(tag, attrs) {
    var el = document.createElementNS(SVG, tag);
    for (var k in attrs) el.setAttribute(k, String(attrs[k]));
    return el;
  }
  /** The activation histogram (details.histogram: edges, counts) as a small bar chart. */
  function histogram(hist) {
    if (!hist || !Array.isArray(hist.edges) || !Array.isArray(hist.counts) || hist.counts.length < 1 ||
        hist.edges.length !== hist.counts.length + 1) return null;
    var W = 260, H = 70, pad = 14, n = hist.counts.length;
    var top = Math.max.apply(null, hist.counts.map(function (c) { return +c || 0; }).concat([1]));
    var svg = svgEl('svg', { id: 'ag-histogram', width: W, height: H + pad, viewBox: '0 0 ' + W + ' ' + (H + pad),
      role: 'img', 'aria-label': 'activation histogram' });
    hist.counts.forEach(function (c, k) {
      var bh = (Math.max(0, +c || 0) / top) * (H - 4), bw = W / n;
      var r = svgEl('rect', { x: (k * bw).toFixed(2), y: (H - bh).toFixed(2), width: Math.max(bw - 1, 0.5).toFixed(2),
        height: bh.toFixed(2), fill: '#f97316' });
      var t = svgEl('title', {});
      t.textContent = fmt(+hist.edges[k]) + '–' + fmt(+hist.edges[k + 1]) + ': ' + (+c || 0);
      r.appendChild(t);
      svg.appendChild(r);
    });
    [[0, 'start', hist.edges[0]], [W, 'end', hist.edges[n]]].forEach(function (a) {
      var t = svgEl('text', { x: a[0], y: H + pad - 2, 'text-anchor': a[1], 'font-size': 10, fill: '#666' });
      t.textContent = fmt(+a[2]);
      svg.appendChild(t);
    });
    return svg;
  }

  AG.registerPanel({
    name: 'labels',
    title: 'Labels',
    order: 12,
    init: function () { this.hideDense = false; },
    hides: function (i, ctx) { return this.hideDense && ctx.g.dense[i]; },
    state: function () { return { hideDense: this.hideDense }; },
    readHash: function (p) { if (p.has('dense')) this.hideDense = p.get('dense') === '0'; },
    writeHash: function (p) { if (this.hideDense) p.set('dense', '0'); else p.delete('dense'); },
    mount: function (el, ctx) {
      var self = this, g = ctx.g, view = g.views.labels;  // report/views.py label_summary: the PDF's too
      el.append(h('h3', { text: this.title }));
      if (!view) { el.append(h('div', { cls: 'ag-empty', text: 'No labels: run attrgraph autointerp.' })); return; }
      el.append(h('div', { cls: 'ag-sub', id: 'ag-label-sources', text: view.text }));
      var nDense = 0;
      for (var i = 0; i < g.n; i++) if (g.dense[i]) nDense++;
      this.toggle = h('button', { cls: 'ag-btn', id: 'ag-hide-dense', type: 'button', onclick: function () {
        self.hideDense = !self.hideDense;
        ctx.changed('filters', 'labels');
      } });
      this.toggle.disabled = nDense === 0;
      this.nDense = nDense;
      el.append(h('div', { style: 'margin:6px 0' }, this.toggle));
      this.hist = h('div', { id: 'ag-label-histogram' });
      el.append(this.hist);
      // labelled features (one node each, its most important), in the report's ranking, dense ones after
      var rows = view.rows.concat(view.dense_rows), ul = h('ul', { cls: 'ag-edges', id: 'ag-label-list' });
      rows.forEach(function (r) {
        var j = r.node, meta = [r.source, r.score != null ? fmt(r.score, 2) : null, r.dense ? 'dense' : null]
          .filter(Boolean).join(' · ');
        ul.append(h('li', { 'data-node': g.ids[j], title: g.ids[j], onclick: function () { ctx.select(j); } },
          h('span', { cls: 'l', text: labels.displayLabel(g, j) }), h('span', { cls: 'w', text: ' ' + meta })));
      });
      el.append(h('div', { cls: 'ag-sub', text: 'By rank (' + view.count + ')' }), ul);
    },
    update: function (st, ctx, changed) {
      if (this.toggle) {
        this.toggle.textContent = (this.hideDense ? 'Show' : 'Hide') + ' dense features (' + this.nDense + ')';
        this.toggle.setAttribute('aria-pressed', String(this.hideDense));
      }
      if (!this.hist || !(changed.has('all') || changed.has('selection'))) return;
      this.hist.textContent = '';
      var e = st.selected >= 0 ? labels.entryOf(ctx.g, st.selected) : null;
      if (!e) return;
      var head = 'label: ' + labels.clip(e.label || '', ctx.g.limits.label) + ' (' + [e.source, typeof e.score === 'number' ? 'score ' + fmt(e.score, 2) : null]
        .filter(Boolean).join(', ') + ')';
      this.hist.append(h('div', { cls: 'ag-sub', id: 'ag-label-selected', text: head }));
      var svg = histogram(e.details && e.details.histogram);
      if (svg) this.hist.append(h('div', { cls: 'ag-sub', text: 'Activation histogram' }), svg);
    }
  });
})(AG);
