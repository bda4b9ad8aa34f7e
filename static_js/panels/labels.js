/* panels/labels.js: autointerp's labels: where they came from (per source), their quality score, the list of
 * labelled features (best score first, click to select), the selected feature's activation histogram as
 * inline SVG, and a toggle that hides dense features (density above --max-density) from the graph. The label
 * text, its source/score, examples, logits and density of the selected node are in the Node panel. */
(function (AG) {
  'use strict';
  var h = AG.dom.h, fmt = AG.format.fmt, labels = AG.labels, SVG = 'http://www.w3.org/2000/svg';
  var LIST = 40;

  function entries(g) {
    var ext = g.extra.attrgraph && g.extra.attrgraph.features;
    return ext && typeof ext === 'object' ? ext : {};
  }
  function entryOf(g, i) {
    var key = g.featureKey ? g.featureKey[i] : null, ext = entries(g);
    if (key == null || !Object.prototype.hasOwnProperty.call(ext, key)) return null;
    return ext[key] && typeof ext[key] === 'object' ? ext[key] : null;
  }
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
    hides: function (i, ctx) { return this.hideDense && !!(ctx.g.dense && ctx.g.dense[i]); },
    state: function () { return { hideDense: this.hideDense }; },
    readHash: function (p) { if (p.has('dense')) this.hideDense = p.get('dense') === '0'; },
    writeHash: function (p) { if (this.hideDense) p.set('dense', '0'); else p.delete('dense'); },
    mount: function (el, ctx) {
      var self = this, g = ctx.g, ext = entries(g), keys = Object.keys(ext);
      el.append(h('h3', { text: this.title }));
      if (!keys.length) { el.append(h('div', { cls: 'ag-empty', text: 'No labels: run attrgraph autointerp.' })); return; }
      var bySource = {}, scores = [];
      keys.forEach(function (k) {
        var e = ext[k] || {}, s = String(e.source || 'unknown');
        bySource[s] = (bySource[s] || 0) + 1;
        if (typeof e.score === 'number') scores.push(e.score);
      });
      var summary = Object.keys(bySource).sort().map(function (s) { return bySource[s] + ' ' + s; }).join(', ');
      var mean = scores.length ? scores.reduce(function (a, b) { return a + b; }, 0) / scores.length : null;
      el.append(h('div', { cls: 'ag-sub', id: 'ag-label-sources',
        text: keys.length + ' features labelled: ' + summary + (mean != null ? ' · mean score ' + fmt(mean, 3) : '') }));
      var nDense = 0;
      if (g.dense) for (var i = 0; i < g.n; i++) if (g.dense[i]) nDense++;
      this.toggle = h('button', { cls: 'ag-btn', id: 'ag-hide-dense', type: 'button', onclick: function () {
        self.hideDense = !self.hideDense;
        ctx.changed('filters', 'labels');
      } });
      this.toggle.disabled = nDense === 0;
      this.nDense = nDense;
      el.append(h('div', { style: 'margin:6px 0' }, this.toggle));
      this.hist = h('div', { id: 'ag-label-histogram' });
      el.append(this.hist);
      // labelled nodes, one per feature (its most important node), best score first
      var seen = {}, rows = [];
      var order = [];
      for (var j = 0; j < g.n; j++) order.push(j);
      AG.rank.byImportance(g, order).forEach(function (j) {
        var key = g.featureKey ? g.featureKey[j] : null;
        if (key == null || seen[key] || !Object.prototype.hasOwnProperty.call(ext, key)) return;
        seen[key] = 1;
        rows.push([j, ext[key]]);
      });
      rows.sort(function (a, b) {
        var sa = typeof a[1].score === 'number' ? a[1].score : -1, sb = typeof b[1].score === 'number' ? b[1].score : -1;
        return sb - sa;
      });
      var ul = h('ul', { cls: 'ag-edges', id: 'ag-label-list' });
      rows.slice(0, LIST).forEach(function (r) {
        var j = r[0], e = r[1];
        var meta = [e.source, typeof e.score === 'number' ? fmt(e.score, 2) : null, e.dense ? 'dense' : null]
          .filter(Boolean).join(' · ');
        ul.append(h('li', { 'data-node': g.ids[j], title: g.ids[j], onclick: function () { ctx.select(j); } },
          h('span', { cls: 'l', text: labels.displayLabel(g, j) }), h('span', { cls: 'w', text: ' ' + meta })));
      });
      el.append(h('div', { cls: 'ag-sub', text: 'By score (' + rows.length + ')' }), ul);
    },
    update: function (st, ctx, changed) {
      if (this.toggle) {
        this.toggle.textContent = (this.hideDense ? 'Show' : 'Hide') + ' dense features (' + this.nDense + ')';
        this.toggle.setAttribute('aria-pressed', String(this.hideDense));
      }
      if (!this.hist || !(changed.has('all') || changed.has('selection'))) return;
      this.hist.textContent = '';
      var e = st.selected >= 0 ? entryOf(ctx.g, st.selected) : null;
      if (!e) return;
      var head = 'label: ' + String(e.label || '') + ' (' + [e.source, typeof e.score === 'number' ? 'score ' + fmt(e.score, 2) : null]
        .filter(Boolean).join(', ') + ')';
      this.hist.append(h('div', { cls: 'ag-sub', id: 'ag-label-selected', text: head }));
      var svg = histogram(e.details && e.details.histogram);
      if (svg) this.hist.append(h('div', { cls: 'ag-sub', text: 'Activation histogram' }), svg);
    }
  });
})(AG);
